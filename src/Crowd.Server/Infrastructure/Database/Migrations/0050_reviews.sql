-- Reviews: who decided a clip, rejections with their reason and appeal, peer validation votes and paid validation time.

-- Who set review_status: 'requester', 'system' (auto-accept after the window), 'peers' (peer validation), 'admin' (an appeal reversed).
ALTER TABLE clips ADD COLUMN reviewed_by_kind character varying(16);
ALTER TABLE clips ADD COLUMN reviewed_by uuid;
CREATE INDEX ix_clips_review_status_created_at ON clips (review_status, created_at) WHERE withdrawn_at IS NULL;

-- Peer validation is the requester's choice per job; off unless ticked.
ALTER TABLE jobs ADD COLUMN peer_validation boolean NOT NULL DEFAULT false;

-- One rejection per clip, with its single appeal and the admin's final decision on it.
CREATE TABLE clip_rejections (
    clip_id uuid NOT NULL,
    -- 1 silence, 2 wrong prompt, 3 unintelligible, 4 not a live human voice, 5 duplicate, 6 peer validation
    reason integer NOT NULL,
    note character varying(2000) NOT NULL,
    rejected_by uuid,
    rejected_at timestamp with time zone NOT NULL,
    appeal_note character varying(2000),
    appealed_at timestamp with time zone,
    -- 1 upheld, 2 reversed
    outcome integer,
    decided_by uuid,
    decided_at timestamp with time zone,
    decision_note character varying(2000),
    pay_reversed_minor bigint,
    CONSTRAINT pk_clip_rejections PRIMARY KEY (clip_id),
    CONSTRAINT fk_clip_rejections_clips_clip_id FOREIGN KEY (clip_id) REFERENCES clips (id) ON DELETE CASCADE,
    CONSTRAINT ck_clip_rejections_reason CHECK (reason BETWEEN 1 AND 6),
    CONSTRAINT ck_clip_rejections_appeal CHECK ((appeal_note IS NULL) = (appealed_at IS NULL)),
    CONSTRAINT ck_clip_rejections_decision CHECK (outcome IS NULL OR (appealed_at IS NOT NULL AND decided_at IS NOT NULL AND decision_note IS NOT NULL)),
    CONSTRAINT ck_clip_rejections_reversal CHECK (pay_reversed_minor IS NULL OR pay_reversed_minor >= 0)
);
CREATE INDEX ix_clip_rejections_pending_appeals ON clip_rejections (appealed_at) WHERE appealed_at IS NOT NULL AND outcome IS NULL;

-- Peer validation votes: one per clip and voter.
CREATE TABLE clip_votes (
    clip_id uuid NOT NULL,
    voter_id uuid NOT NULL,
    up boolean NOT NULL,
    voted_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_clip_votes PRIMARY KEY (clip_id, voter_id),
    CONSTRAINT fk_clip_votes_clips_clip_id FOREIGN KEY (clip_id) REFERENCES clips (id) ON DELETE CASCADE,
    CONSTRAINT fk_clip_votes_users_voter_id FOREIGN KEY (voter_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_clip_votes_voter_id ON clip_votes (voter_id);

-- Time spent validating, paid like recording time: its id is the session id of its earnings accrual.
CREATE TABLE validation_sessions (
    id uuid NOT NULL,
    job_id uuid NOT NULL,
    job_version integer NOT NULL,
    contributor_id uuid NOT NULL,
    active_ms bigint NOT NULL,
    started_at timestamp with time zone NOT NULL,
    last_activity_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_validation_sessions PRIMARY KEY (id),
    CONSTRAINT fk_validation_sessions_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE,
    CONSTRAINT fk_validation_sessions_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT ck_validation_sessions_active CHECK (active_ms >= 0)
);
CREATE UNIQUE INDEX ix_validation_sessions_job_id_job_version_contributor_id ON validation_sessions (job_id, job_version, contributor_id);
CREATE INDEX ix_validation_sessions_contributor_id ON validation_sessions (contributor_id);
