-- Dataset exports for requesters and data exports for contributors.

-- One dataset a requester organisation took out of a job: the signed manifest as delivered, for the declared use.
-- The clips it delivered are in clip_recipients (export_id); downloads are allowed only for those.
CREATE TABLE dataset_exports (
    id uuid NOT NULL,
    job_id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    requested_by_user_id uuid NOT NULL,
    api_key_id uuid,
    dataset_use character varying(32) NOT NULL,
    clip_count integer NOT NULL,
    total_bytes bigint NOT NULL,
    manifest_jsonl text NOT NULL,
    manifest_tsv text NOT NULL,
    signature text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_dataset_exports PRIMARY KEY (id),
    CONSTRAINT fk_dataset_exports_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE RESTRICT,
    CONSTRAINT fk_dataset_exports_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE RESTRICT
);
CREATE INDEX ix_dataset_exports_job_id ON dataset_exports (job_id);
CREATE INDEX ix_dataset_exports_organisation_id ON dataset_exports (organisation_id);
-- Downloads look a clip up by (export, clip); the primary key of clip_recipients starts with the clip.
CREATE INDEX ix_clip_recipients_export_id ON clip_recipients (export_id);

-- A contributor's own data as a ZIP, built in the background: 0 pending, 1 building, 2 ready, 3 failed, 4 expired.
CREATE TABLE contributor_exports (
    id uuid NOT NULL,
    contributor_id uuid NOT NULL,
    state integer NOT NULL,
    items_done integer NOT NULL,
    items_total integer NOT NULL,
    size_bytes bigint NOT NULL,
    file_name character varying(200),
    node character varying(200),
    failure character varying(500),
    requested_at timestamp with time zone NOT NULL,
    heartbeat_at timestamp with time zone,
    ready_at timestamp with time zone,
    expires_at timestamp with time zone,
    CONSTRAINT pk_contributor_exports PRIMARY KEY (id),
    CONSTRAINT ck_contributor_exports_progress CHECK (items_done >= 0 AND items_done <= items_total),
    CONSTRAINT fk_contributor_exports_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_contributor_exports_contributor_id ON contributor_exports (contributor_id);
-- At most one export per contributor is waiting or being built.
CREATE UNIQUE INDEX ix_contributor_exports_one_open ON contributor_exports (contributor_id) WHERE state IN (0, 1);
CREATE INDEX ix_contributor_exports_state ON contributor_exports (state);
