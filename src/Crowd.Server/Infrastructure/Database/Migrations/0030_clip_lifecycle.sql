-- A clip's life after it is stored: the consent it was recorded under, the requester's review, the contributor's
-- withdrawal and the destruction of its audio. Consent, review, withdrawal, retention and exports all read these.
ALTER TABLE clips ADD COLUMN consent_id uuid;
ALTER TABLE clips ADD CONSTRAINT fk_clips_consents_consent_id FOREIGN KEY (consent_id) REFERENCES consents (id) ON DELETE RESTRICT;
CREATE INDEX ix_clips_consent_id ON clips (consent_id);

-- 0 waiting for review, 1 accepted, 2 rejected.
ALTER TABLE clips ADD COLUMN review_status integer NOT NULL DEFAULT 0;
ALTER TABLE clips ALTER COLUMN review_status DROP DEFAULT;
ALTER TABLE clips ADD COLUMN reviewed_at timestamp with time zone;
ALTER TABLE clips ADD COLUMN withdrawn_at timestamp with time zone;
ALTER TABLE clips ADD COLUMN audio_destroyed_at timestamp with time zone;
CREATE INDEX ix_clips_job_id_review_status ON clips (job_id, review_status) WHERE withdrawn_at IS NULL;

-- Every organisation that received a clip in a dataset export: a withdrawal sends each of them a deletion notice.
CREATE TABLE clip_recipients (
    clip_id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    export_id uuid NOT NULL,
    exported_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_clip_recipients PRIMARY KEY (clip_id, organisation_id, export_id),
    CONSTRAINT fk_clip_recipients_clips_clip_id FOREIGN KEY (clip_id) REFERENCES clips (id) ON DELETE CASCADE,
    CONSTRAINT fk_clip_recipients_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE CASCADE
);
CREATE INDEX ix_clip_recipients_organisation_id ON clip_recipients (organisation_id);

-- Voice cloning / speech synthesis is a separate opt-in within a job's consent, off unless the contributor ticks it.
ALTER TABLE consents ADD COLUMN voice_cloning boolean NOT NULL DEFAULT false;
ALTER TABLE consents ALTER COLUMN voice_cloning DROP DEFAULT;
