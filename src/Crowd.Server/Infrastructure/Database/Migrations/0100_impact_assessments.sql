-- Impact assessments (PIPL arts. 55-56, GDPR art. 35): a job is published only under an approved one.
-- Each submission is a new version; an admin approves it or sends it back with reasons. Kept at least three years
-- after the job closes (keep_until), whatever the retention of the audio: rows cannot be deleted before then.
CREATE TABLE impact_assessments (
    id uuid NOT NULL,
    job_id uuid NOT NULL,
    version integer NOT NULL,
    -- 0 waiting for review, 1 approved, 2 sent back.
    status integer NOT NULL,
    purpose_speech_recognition boolean NOT NULL,
    purpose_voice_cloning boolean NOT NULL,
    purpose_and_necessity character varying(4000) NOT NULL,
    data_collected character varying(4000) NOT NULL,
    risk_voice_cloning character varying(4000) NOT NULL,
    risk_reidentification character varying(4000) NOT NULL,
    risk_minors character varying(4000) NOT NULL,
    risk_deep_synthesis character varying(4000) NOT NULL,
    safeguards character varying(4000) NOT NULL,
    retention character varying(4000) NOT NULL,
    recipients character varying(4000) NOT NULL,
    submitted_by_user_id uuid NOT NULL,
    submitted_at timestamp with time zone NOT NULL,
    reviewed_by_user_id uuid,
    reviewed_at timestamp with time zone,
    review_reasons character varying(4000),
    keep_until timestamp with time zone,
    CONSTRAINT pk_impact_assessments PRIMARY KEY (id),
    CONSTRAINT ck_impact_assessments_reviewed CHECK ((status = 0) = (reviewed_at IS NULL)),
    CONSTRAINT fk_impact_assessments_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE RESTRICT,
    CONSTRAINT fk_impact_assessments_users_submitted_by_user_id FOREIGN KEY (submitted_by_user_id) REFERENCES users (id) ON DELETE RESTRICT
);
CREATE UNIQUE INDEX ix_impact_assessments_job_id_version ON impact_assessments (job_id, version);
CREATE INDEX ix_impact_assessments_status ON impact_assessments (status);

CREATE FUNCTION impact_assessments_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.keep_until IS NULL OR OLD.keep_until > now() THEN
        RAISE EXCEPTION 'impact assessment % is kept until three years after its job closes', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER impact_assessments_no_early_delete BEFORE DELETE ON impact_assessments
    FOR EACH ROW EXECUTE FUNCTION impact_assessments_kept();

-- Which purposes each published version of a job asked consent for, and the assessment it was published under.
-- The purposes were only inside terms_json before; consents refer to a version, so the dataset rule reads them here.
ALTER TABLE job_versions ADD COLUMN purpose_speech_recognition boolean NOT NULL DEFAULT true;
ALTER TABLE job_versions ADD COLUMN purpose_voice_cloning boolean NOT NULL DEFAULT false;
ALTER TABLE job_versions ADD COLUMN impact_assessment_id uuid;
ALTER TABLE job_versions ADD CONSTRAINT fk_job_versions_impact_assessments_impact_assessment_id
    FOREIGN KEY (impact_assessment_id) REFERENCES impact_assessments (id) ON DELETE RESTRICT;
UPDATE job_versions v SET
    purpose_speech_recognition = coalesce((v.terms_json::jsonb -> 'purposes' ->> 'speechRecognition')::boolean, j.purpose_speech_recognition),
    purpose_voice_cloning = coalesce((v.terms_json::jsonb -> 'purposes' ->> 'voiceCloning')::boolean, j.purpose_voice_cloning)
FROM jobs j WHERE j.id = v.job_id;

-- When the job closed: the three years of keeping its assessments count from here.
ALTER TABLE jobs ADD COLUMN closed_at timestamp with time zone;
