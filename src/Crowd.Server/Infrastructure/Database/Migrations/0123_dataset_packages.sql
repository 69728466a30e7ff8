-- A dataset export packed as one ZIP for the browser (manifests, signature, documents, published keys and the clips),
-- built in the background: 0 pending, 1 building, 2 ready, 3 failed, 4 expired.
CREATE TABLE dataset_packages (
    export_id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    requested_by_user_id uuid NOT NULL,
    state integer NOT NULL,
    clips_done integer NOT NULL,
    clips_total integer NOT NULL,
    size_bytes bigint NOT NULL,
    file_name character varying(200),
    node character varying(200),
    failure character varying(500),
    requested_at timestamp with time zone NOT NULL,
    heartbeat_at timestamp with time zone,
    ready_at timestamp with time zone,
    expires_at timestamp with time zone,
    CONSTRAINT pk_dataset_packages PRIMARY KEY (export_id),
    CONSTRAINT ck_dataset_packages_progress CHECK (clips_done >= 0 AND clips_done <= clips_total),
    CONSTRAINT fk_dataset_packages_dataset_exports_export_id FOREIGN KEY (export_id) REFERENCES dataset_exports (id) ON DELETE CASCADE,
    CONSTRAINT fk_dataset_packages_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE RESTRICT
);
CREATE INDEX ix_dataset_packages_organisation_id ON dataset_packages (organisation_id);
CREATE INDEX ix_dataset_packages_state ON dataset_packages (state);
