-- Recording: consent records (the gate), recording tasks and per-speaker tallies (claims and quotas),
-- worker sessions (active time, checkpoints, the live connection) and stored clips.

CREATE TABLE consents (
    id uuid NOT NULL,
    job_id uuid NOT NULL,
    job_version integer NOT NULL,
    contributor_id uuid NOT NULL,
    terms_sha256 character varying(64) NOT NULL,
    given_at timestamp with time zone NOT NULL,
    withdrawn_at timestamp with time zone,
    CONSTRAINT pk_consents PRIMARY KEY (id),
    CONSTRAINT fk_consents_job_versions_job_id_job_version FOREIGN KEY (job_id, job_version) REFERENCES job_versions (job_id, version) ON DELETE CASCADE,
    CONSTRAINT fk_consents_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_consents_job_id_job_version_contributor_id ON consents (job_id, job_version, contributor_id);
CREATE INDEX ix_consents_contributor_id ON consents (contributor_id);

CREATE TABLE recording_tasks (
    id uuid NOT NULL,
    job_id uuid NOT NULL,
    prompt_id uuid NOT NULL,
    ordinal integer NOT NULL,
    takes_needed integer NOT NULL,
    accepted_takes integer NOT NULL,
    claimed_by_session_id uuid,
    claim_expires_at timestamp with time zone,
    CONSTRAINT pk_recording_tasks PRIMARY KEY (id),
    -- The last line of defence for the per-prompt quota: whatever the code does, a prompt never gets more accepted takes than it needs.
    CONSTRAINT ck_recording_tasks_quota CHECK (accepted_takes >= 0 AND accepted_takes <= takes_needed),
    CONSTRAINT ck_recording_tasks_claim CHECK ((claimed_by_session_id IS NULL) = (claim_expires_at IS NULL)),
    CONSTRAINT fk_recording_tasks_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE,
    CONSTRAINT fk_recording_tasks_prompts_prompt_id FOREIGN KEY (prompt_id) REFERENCES prompts (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_recording_tasks_prompt_id ON recording_tasks (prompt_id);
CREATE INDEX ix_recording_tasks_job_id_ordinal ON recording_tasks (job_id, ordinal);
CREATE INDEX ix_recording_tasks_claimed_by_session_id ON recording_tasks (claimed_by_session_id);

-- One row per (job, contributor), locked by every claim of that contributor: the per-speaker cap holds under concurrency.
CREATE TABLE recording_speakers (
    job_id uuid NOT NULL,
    contributor_id uuid NOT NULL,
    accepted_takes integer NOT NULL,
    CONSTRAINT pk_recording_speakers PRIMARY KEY (job_id, contributor_id),
    CONSTRAINT ck_recording_speakers_takes CHECK (accepted_takes >= 0),
    CONSTRAINT fk_recording_speakers_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE,
    CONSTRAINT fk_recording_speakers_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_recording_speakers_contributor_id ON recording_speakers (contributor_id);

CREATE TABLE worker_sessions (
    id uuid NOT NULL,
    job_id uuid NOT NULL,
    job_version integer NOT NULL,
    contributor_id uuid NOT NULL,
    state integer NOT NULL,
    active_ms bigint NOT NULL,
    clips integer NOT NULL,
    started_at timestamp with time zone NOT NULL,
    last_activity_at timestamp with time zone NOT NULL,
    last_checkpoint_at timestamp with time zone NOT NULL,
    closed_at timestamp with time zone,
    current_task_id uuid,
    current_take_id uuid,
    last_chunk_seq integer NOT NULL,
    connection_id character varying(100),
    node_id character varying(100),
    CONSTRAINT pk_worker_sessions PRIMARY KEY (id),
    CONSTRAINT ck_worker_sessions_active CHECK (active_ms >= 0),
    CONSTRAINT fk_worker_sessions_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE,
    CONSTRAINT fk_worker_sessions_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE
);

-- A contributor has at most one open session per job: reconnecting (even after a crash) resumes it.
CREATE UNIQUE INDEX ix_worker_sessions_job_id_contributor_id ON worker_sessions (job_id, contributor_id) WHERE state = 0;
CREATE INDEX ix_worker_sessions_contributor_id ON worker_sessions (contributor_id);

CREATE TABLE clips (
    id uuid NOT NULL,
    take_id uuid NOT NULL,
    session_id uuid NOT NULL,
    task_id uuid NOT NULL,
    job_id uuid NOT NULL,
    job_version integer NOT NULL,
    prompt_id uuid NOT NULL,
    contributor_id uuid NOT NULL,
    storage_key character varying(200) NOT NULL,
    sha256 character varying(64) NOT NULL,
    size_bytes bigint NOT NULL,
    wrapped_key bytea,
    sample_rate integer NOT NULL,
    duration_ms integer NOT NULL,
    metrics jsonb NOT NULL,
    verdict jsonb NOT NULL,
    browser_settings jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_clips PRIMARY KEY (id),
    CONSTRAINT fk_clips_worker_sessions_session_id FOREIGN KEY (session_id) REFERENCES worker_sessions (id) ON DELETE RESTRICT,
    CONSTRAINT fk_clips_recording_tasks_task_id FOREIGN KEY (task_id) REFERENCES recording_tasks (id) ON DELETE RESTRICT,
    CONSTRAINT fk_clips_job_versions_job_id_job_version FOREIGN KEY (job_id, job_version) REFERENCES job_versions (job_id, version) ON DELETE RESTRICT,
    CONSTRAINT fk_clips_prompts_prompt_id FOREIGN KEY (prompt_id) REFERENCES prompts (id) ON DELETE RESTRICT,
    CONSTRAINT fk_clips_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE RESTRICT
);

CREATE UNIQUE INDEX ix_clips_take_id ON clips (take_id);
-- A speaker records each prompt once.
CREATE UNIQUE INDEX ix_clips_task_id_contributor_id ON clips (task_id, contributor_id);
CREATE INDEX ix_clips_session_id ON clips (session_id);
CREATE INDEX ix_clips_contributor_id ON clips (contributor_id);
CREATE INDEX ix_clips_job_id_job_version ON clips (job_id, job_version);
CREATE INDEX ix_clips_prompt_id ON clips (prompt_id);
