-- Withdrawal and retention destroy a clip's key in the clip's own row (clips.wrapped_key, 0030); the encrypted file is
-- deleted after the transaction commits. A file whose deletion did not happen yet (crash, full disk) stays in this queue
-- until the sweeper removes it; the audio is unreadable from the moment the key is gone either way.
CREATE TABLE clip_file_deletions (
    clip_id uuid NOT NULL,
    storage_key character varying(200) NOT NULL,
    queued_at timestamp with time zone NOT NULL,
    deleted_at timestamp with time zone,
    attempts integer NOT NULL,
    last_error character varying(500),
    CONSTRAINT pk_clip_file_deletions PRIMARY KEY (clip_id),
    CONSTRAINT fk_clip_file_deletions_clips_clip_id FOREIGN KEY (clip_id) REFERENCES clips (id) ON DELETE CASCADE
);
CREATE INDEX ix_clip_file_deletions_queued_at ON clip_file_deletions (queued_at) WHERE deleted_at IS NULL;

-- A deletion notice tells one organisation that received clips in an export to delete them: the contributor withdrew,
-- or the retention period ended. It stays open until someone of the organisation acknowledges it.
CREATE TABLE deletion_notices (
    id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    -- 1 withdrawal, 2 retention.
    reason integer NOT NULL,
    clip_count integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    acknowledged_at timestamp with time zone,
    acknowledged_by_user_id uuid,
    CONSTRAINT pk_deletion_notices PRIMARY KEY (id),
    CONSTRAINT ck_deletion_notices_acknowledged CHECK ((acknowledged_at IS NULL) = (acknowledged_by_user_id IS NULL)),
    CONSTRAINT fk_deletion_notices_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE CASCADE,
    CONSTRAINT fk_deletion_notices_users_acknowledged_by_user_id FOREIGN KEY (acknowledged_by_user_id) REFERENCES users (id) ON DELETE RESTRICT
);
CREATE INDEX ix_deletion_notices_organisation_id_created_at ON deletion_notices (organisation_id, created_at);
CREATE INDEX ix_deletion_notices_created_at ON deletion_notices (created_at) WHERE acknowledged_at IS NULL;

CREATE TABLE deletion_notice_clips (
    notice_id uuid NOT NULL,
    clip_id uuid NOT NULL,
    export_id uuid NOT NULL,
    CONSTRAINT pk_deletion_notice_clips PRIMARY KEY (notice_id, clip_id, export_id),
    CONSTRAINT fk_deletion_notice_clips_deletion_notices_notice_id FOREIGN KEY (notice_id) REFERENCES deletion_notices (id) ON DELETE CASCADE,
    CONSTRAINT fk_deletion_notice_clips_clips_clip_id FOREIGN KEY (clip_id) REFERENCES clips (id) ON DELETE CASCADE
);
CREATE INDEX ix_deletion_notice_clips_clip_id ON deletion_notice_clips (clip_id);

-- An organisation's webhook: deletion notices are also POSTed there, signed with the secret (kept protected by the
-- platform's data-protection keys; shown to the requester once).
CREATE TABLE webhook_endpoints (
    organisation_id uuid NOT NULL,
    url character varying(2000) NOT NULL,
    protected_secret text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    created_by_user_id uuid NOT NULL,
    CONSTRAINT pk_webhook_endpoints PRIMARY KEY (organisation_id),
    CONSTRAINT fk_webhook_endpoints_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE CASCADE,
    CONSTRAINT fk_webhook_endpoints_users_created_by_user_id FOREIGN KEY (created_by_user_id) REFERENCES users (id) ON DELETE RESTRICT
);

-- 0 pending, 1 delivered, 2 failed (gave up after the last attempt).
CREATE TABLE webhook_deliveries (
    id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    notice_id uuid NOT NULL,
    event_type character varying(100) NOT NULL,
    payload text NOT NULL,
    state integer NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    last_attempt_at timestamp with time zone,
    last_status integer,
    last_error character varying(500),
    delivered_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id),
    CONSTRAINT fk_webhook_deliveries_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE CASCADE,
    CONSTRAINT fk_webhook_deliveries_deletion_notices_notice_id FOREIGN KEY (notice_id) REFERENCES deletion_notices (id) ON DELETE CASCADE
);
CREATE INDEX ix_webhook_deliveries_next_attempt_at ON webhook_deliveries (next_attempt_at) WHERE state = 0;
CREATE INDEX ix_webhook_deliveries_notice_id ON webhook_deliveries (notice_id);
CREATE INDEX ix_webhook_deliveries_organisation_id ON webhook_deliveries (organisation_id);
