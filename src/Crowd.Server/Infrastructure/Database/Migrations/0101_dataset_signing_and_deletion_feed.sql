-- Ed25519 keys that sign dataset manifests and deletion feeds. The private key is stored only wrapped (AES-256-GCM under
-- a key derived from the clip master key, the key id as associated data), never in clear. A key signs from valid_from
-- until it is retired (valid_until); its signatures stay verifiable for what it signed inside that window.
CREATE TABLE dataset_signing_keys (
    key_id character varying(64) NOT NULL,
    public_key bytea NOT NULL,
    wrapped_private_key bytea NOT NULL,
    valid_from timestamp with time zone NOT NULL,
    valid_until timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_dataset_signing_keys PRIMARY KEY (key_id)
);
-- At most one key signs at a time.
CREATE UNIQUE INDEX ix_dataset_signing_keys_current ON dataset_signing_keys ((true)) WHERE valid_until IS NULL;

-- The buyer-facing metadata of every export, signed together with the manifests.
ALTER TABLE dataset_exports ADD COLUMN croissant_json text NOT NULL DEFAULT '';
ALTER TABLE dataset_exports ADD COLUMN datasheet_md text NOT NULL DEFAULT '';

-- The deletion feed: one row per clip an organisation received in an export and must now delete. Append-only.
CREATE TABLE dataset_deletions (
    seq bigint GENERATED ALWAYS AS IDENTITY,
    organisation_id uuid NOT NULL,
    clip_id uuid NOT NULL,
    export_id uuid NOT NULL,
    -- 1 withdrawal, 2 retention (as deletion_notices.reason).
    reason integer NOT NULL,
    recorded_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_dataset_deletions PRIMARY KEY (seq),
    CONSTRAINT fk_dataset_deletions_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE RESTRICT
);
CREATE INDEX ix_dataset_deletions_organisation_id_seq ON dataset_deletions (organisation_id, seq);
CREATE UNIQUE INDEX ix_dataset_deletions_once ON dataset_deletions (organisation_id, clip_id, export_id);

CREATE FUNCTION dataset_deletions_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dataset_deletions is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER dataset_deletions_no_update BEFORE UPDATE OR DELETE ON dataset_deletions
    FOR EACH ROW EXECUTE FUNCTION dataset_deletions_is_append_only();
CREATE TRIGGER dataset_deletions_no_truncate BEFORE TRUNCATE ON dataset_deletions
    FOR EACH STATEMENT EXECUTE FUNCTION dataset_deletions_is_append_only();
