-- A contributor's export is streamed from the clip vault at each download; no ZIP is written to disk any more, so
-- there is no file to name. Files left by earlier versions are deleted by the exports' maintenance job.
ALTER TABLE contributor_exports DROP COLUMN file_name;
