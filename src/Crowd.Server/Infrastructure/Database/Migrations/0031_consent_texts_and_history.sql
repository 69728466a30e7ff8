-- Consent keeps the exact text the contributor read (each distinct text stored once, keyed by its SHA-256) and the
-- name they typed. Consents become an append-only history: a withdrawal sets withdrawn_at on the live row and
-- consenting again inserts a new row, so at most one row per (job, version, contributor) is live.
CREATE TABLE consent_texts (
    sha256 character varying(64) NOT NULL,
    culture character varying(16) NOT NULL,
    body text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_consent_texts PRIMARY KEY (sha256)
);

DROP INDEX ix_consents_job_id_job_version_contributor_id;
CREATE UNIQUE INDEX ix_consents_job_id_job_version_contributor_id ON consents (job_id, job_version, contributor_id) WHERE withdrawn_at IS NULL;

-- NULL only on consents given before this migration, when neither was recorded.
ALTER TABLE consents ADD COLUMN text_sha256 character varying(64);
ALTER TABLE consents ADD COLUMN signature character varying(200);
ALTER TABLE consents ADD CONSTRAINT fk_consents_consent_texts_text_sha256 FOREIGN KEY (text_sha256) REFERENCES consent_texts (sha256) ON DELETE RESTRICT;
CREATE INDEX ix_consents_text_sha256 ON consents (text_sha256);

-- A minor's consent: the minor signs, a guardian confirms through a single-use link mailed to them. Only the
-- guardian's confirmation creates the (live) consent row, which then points back here.
CREATE TABLE guardian_consents (
    id uuid NOT NULL,
    job_id uuid NOT NULL,
    job_version integer NOT NULL,
    contributor_id uuid NOT NULL,
    text_sha256 character varying(64) NOT NULL,
    voice_cloning boolean NOT NULL,
    minor_signature character varying(200) NOT NULL,
    guardian_email character varying(256) NOT NULL,
    token_sha256 character varying(64) NOT NULL,
    requested_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    confirmed_at timestamp with time zone,
    guardian_name character varying(200),
    CONSTRAINT pk_guardian_consents PRIMARY KEY (id),
    CONSTRAINT ck_guardian_consents_confirmed CHECK ((confirmed_at IS NULL) = (guardian_name IS NULL)),
    CONSTRAINT fk_guardian_consents_job_versions_job_id_job_version FOREIGN KEY (job_id, job_version) REFERENCES job_versions (job_id, version) ON DELETE CASCADE,
    CONSTRAINT fk_guardian_consents_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_guardian_consents_consent_texts_text_sha256 FOREIGN KEY (text_sha256) REFERENCES consent_texts (sha256) ON DELETE RESTRICT
);
CREATE UNIQUE INDEX ix_guardian_consents_token_sha256 ON guardian_consents (token_sha256);
CREATE INDEX ix_guardian_consents_contributor_id ON guardian_consents (contributor_id);
CREATE INDEX ix_guardian_consents_job_id_job_version ON guardian_consents (job_id, job_version);
CREATE INDEX ix_guardian_consents_text_sha256 ON guardian_consents (text_sha256);

ALTER TABLE consents ADD COLUMN guardian_consent_id uuid;
ALTER TABLE consents ADD CONSTRAINT fk_consents_guardian_consents_guardian_consent_id FOREIGN KEY (guardian_consent_id) REFERENCES guardian_consents (id) ON DELETE RESTRICT;
CREATE INDEX ix_consents_guardian_consent_id ON consents (guardian_consent_id);
