#!/bin/sh
# Run by the postgres image on its first start (docker-entrypoint-initdb.d): the roles and database of roles.sql.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner=crowd_owner -v owner_password="$CROWD_DB_OWNER_PASSWORD" \
    -v app=crowd_app -v app_password="$CROWD_DB_APP_PASSWORD" \
    -v database=crowd -f /crowd/roles.sql
