-- Crowd's PostgreSQL roles for production. Run once, as a superuser or the managed service's admin role:
--
--   psql "host=DB_HOST user=postgres dbname=postgres" -v ON_ERROR_STOP=1 \
--     -v owner=crowd_owner -v owner_password="$CROWD_DB_OWNER_PASSWORD" \
--     -v app=crowd_app -v app_password="$CROWD_DB_APP_PASSWORD" \
--     -v database=crowd -f deploy/postgres/roles.sql
--
-- Then give the nodes ConnectionStrings__CrowdOwner (the owner: migrations at start-up) and ConnectionStrings__Crowd
-- (the application role: everything else). The owner creates and alters the schema; after migrating, each start grants
-- the application role what it needs on every table. Neither role is a superuser, and the application role owns
-- nothing: it cannot alter a table, disable a trigger or set session_replication_role, so the append-only guards of
-- the audit log and the ledger hold against the server itself.

CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'app_password';
CREATE DATABASE :"database" OWNER :"owner";

REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"app";

\connect :"database"
-- The schema is the owner's (PostgreSQL 15 makes public the database owner's); nobody else creates in it.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
