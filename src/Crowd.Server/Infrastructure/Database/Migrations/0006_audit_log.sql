-- The hash-chained audit log (see Features/Audit/AuditChain.cs). Append-only: the database itself refuses to change
-- or remove an entry, whoever asks; tampering that bypasses this (a superuser, a restored file) breaks the chain.
CREATE TABLE audit_log (
    seq bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    actor_kind character varying(16) NOT NULL,
    actor_id uuid,
    action character varying(64) NOT NULL,
    subject_type character varying(64) NOT NULL,
    subject_id character varying(200) NOT NULL,
    reason character varying(2000) NOT NULL,
    details text NOT NULL,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT pk_audit_log PRIMARY KEY (seq),
    CONSTRAINT ck_audit_log_hashes CHECK (length(prev_hash) = 32 AND length(hash) = 32)
);

CREATE INDEX ix_audit_log_subject ON audit_log (subject_type, subject_id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
