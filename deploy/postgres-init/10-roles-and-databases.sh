#!/bin/sh
# Runs once, when the Compose PostgreSQL initialises an empty data volume
# (docker-entrypoint-initdb.d). Gives each service one database and one login role that owns that
# database and nothing else: no superuser, no CREATEDB or CREATEROLE, and no CONNECT to the other
# services' databases (CONNECT is revoked from PUBLIC). The role passwords are read from the
# Compose secrets <role>_db_password. Safe to run again: roles and databases that exist are kept,
# passwords and privileges are set anew.
set -eu

secrets="${PRR_SECRETS_DIR:-/run/secrets}"

# role database
for pair in \
    "register praktijkregister_register" \
    "visitation praktijkregister_visitation" \
    "insurer_export praktijkregister_export"; do
    # shellcheck disable=SC2086 # split the pair into role and database
    set -- ${pair}
    password_file="${secrets}/$1_db_password"
    if [ ! -s "${password_file}" ]; then
        echo "error: ${password_file} is missing or empty" >&2
        exit 1
    fi
    psql -X -q -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        -v role="$1" -v db="$2" -v password="$(cat "${password_file}")" <<'SQL'
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
              :'role', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'role') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SQL
done

# The service roles have no business in the maintenance database either.
psql -X -q -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -c 'REVOKE ALL ON DATABASE postgres FROM PUBLIC'
