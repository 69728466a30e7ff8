-- The server's runtime connections use an application role that owns nothing and is not a superuser: it can read and
-- write rows, but it cannot alter a table, disable a trigger or set session_replication_role, so the append-only
-- guards (audit log, ledger) hold against it. The owner role runs these migrations and, after each start's migrations,
-- calls this function (see SchemaMigrator) so that tables added since are granted too. Runs as the owner: it grants
-- only on what the owner owns.
CREATE FUNCTION crowd_grant_application_role(application_role name) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    schema_name name;
BEGIN
    FOR schema_name IN
        SELECT n.nspname FROM pg_namespace n
        WHERE n.nspname = 'public'
           OR (n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
               AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema')
    LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', schema_name, application_role);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', schema_name, application_role);
        EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', schema_name, application_role);
        EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO %I', schema_name, application_role);
    END LOOP;
    -- Which migrations ran is the owner's record alone.
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM %I', application_role);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION crowd_grant_application_role(name) FROM %I', application_role);
END $$;

REVOKE EXECUTE ON FUNCTION crowd_grant_application_role(name) FROM PUBLIC;
