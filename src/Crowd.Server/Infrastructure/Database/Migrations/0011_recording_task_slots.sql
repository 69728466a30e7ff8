-- A recording task is one take slot of a prompt: a prompt that needs five takes has five tasks, so five speakers can
-- record it at the same time (a wake-word job may have one prompt and thousands of speakers). Each slot still has one
-- holder at a time, and the per-prompt quota is the number of slots. A speaker records a prompt once, whichever slot.
ALTER TABLE recording_tasks ADD COLUMN slot integer NOT NULL DEFAULT 0;
ALTER TABLE recording_tasks ALTER COLUMN slot DROP DEFAULT;
DROP INDEX ix_recording_tasks_prompt_id;
CREATE UNIQUE INDEX ix_recording_tasks_prompt_id_slot ON recording_tasks (prompt_id, slot);

DROP INDEX ix_clips_task_id_contributor_id;
CREATE UNIQUE INDEX ix_clips_prompt_id_contributor_id ON clips (prompt_id, contributor_id);
CREATE INDEX ix_clips_task_id ON clips (task_id);
DROP INDEX ix_clips_prompt_id;

-- Claims walk a job's open slots in prompt order.
DROP INDEX ix_recording_tasks_job_id_ordinal;
CREATE INDEX ix_recording_tasks_job_id_ordinal_slot ON recording_tasks (job_id, ordinal, slot);
