-- What a job's dashboard draws on besides its clips and the ledger: every take the live check judged (passed or not,
-- with the codes of what failed), and how speakers describe their own language and accent.

CREATE TABLE take_outcomes (
    take_id uuid NOT NULL,
    job_id uuid NOT NULL,
    session_id uuid NOT NULL,
    contributor_id uuid NOT NULL,
    judged_at timestamp with time zone NOT NULL,
    passed boolean NOT NULL,
    -- QualityIssue codes (too_quiet, clipping, …); empty when the take passed.
    issues text[] NOT NULL,
    CONSTRAINT pk_take_outcomes PRIMARY KEY (take_id),
    CONSTRAINT ck_take_outcomes_issues CHECK (passed = (cardinality(issues) = 0)),
    CONSTRAINT fk_take_outcomes_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE,
    CONSTRAINT fk_take_outcomes_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_take_outcomes_job_id_judged_at ON take_outcomes (job_id, judged_at);
CREATE INDEX ix_take_outcomes_contributor_id ON take_outcomes (contributor_id);

-- Takes judged before this table existed are known only when they passed and were kept: every stored clip is one.
INSERT INTO take_outcomes (take_id, job_id, session_id, contributor_id, judged_at, passed, issues)
SELECT take_id, job_id, session_id, contributor_id, created_at, true, '{}' FROM clips
ON CONFLICT DO NOTHING;

-- A speaker's own description of how they speak: optional, changeable, shown to requesters only in groups of 5 or more.
CREATE TABLE speaker_profiles (
    contributor_id uuid NOT NULL,
    language character varying(35) NOT NULL,
    -- '' when the speaker named no accent or dialect.
    accent character varying(60) NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_speaker_profiles PRIMARY KEY (contributor_id),
    CONSTRAINT fk_speaker_profiles_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE
);
