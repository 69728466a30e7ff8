-- Recording runs in Orleans grains: the per-speaker cap is a term of each job (the job's grain enforces it), and a
-- session's connection lives in its grain, not in a row. node_id now only says which silo last activated the session.
ALTER TABLE jobs ADD COLUMN max_takes_per_speaker integer NOT NULL DEFAULT 200;
ALTER TABLE jobs ADD CONSTRAINT ck_jobs_max_takes_per_speaker CHECK (max_takes_per_speaker > 0);
ALTER TABLE worker_sessions DROP COLUMN connection_id;
