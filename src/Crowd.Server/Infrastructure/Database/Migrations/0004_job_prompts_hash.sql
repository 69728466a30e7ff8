-- The SHA-256 of a job's prompts, kept with the job so a new terms snapshot needs no pass over 100,000 prompt rows.
ALTER TABLE jobs ADD COLUMN prompts_sha256 character varying(64) NOT NULL DEFAULT '';
