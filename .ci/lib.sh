# shellcheck shell=bash
# Helpers shared by the scripts in .ci/. Source this file; do not execute it.

section() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Run a command as root (directly, or through sudo when available).
as_root() {
    if [[ ${EUID} -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "root privileges needed for: $*"
    fi
}

# Run a command as the "postgres" system user.
as_postgres() {
    if [[ ${EUID} -eq 0 ]]; then
        runuser -u postgres -- "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -u postgres -- "$@"
    else
        die "cannot switch to the postgres system user for: $*"
    fi
}

# Random lowercase hex string of $1 bytes (default 24).
random_hex() {
    od -An -tx1 -N"${1:-24}" /dev/urandom | tr -d ' \n'
}

# A TCP port on 127.0.0.1 that is free right now.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

PG_HOST=127.0.0.1
PG_PORT=5432

# Sets PSQL_ADMIN to a psql command line with superuser rights on the
# PostgreSQL at $PG_HOST:$PG_PORT: over TCP as "postgres" when that works
# without a prompt (trust, PGPASSWORD, ~/.pgpass), otherwise through the Unix
# socket as the postgres system user (peer authentication).
PSQL_ADMIN=()
pg_admin_init() {
    local common=(-X -q -At -v ON_ERROR_STOP=1 -p "${PG_PORT}" -d postgres)
    if psql -h "${PG_HOST}" -U postgres -w "${common[@]}" -c 'SELECT 1' >/dev/null 2>&1; then
        PSQL_ADMIN=(psql -h "${PG_HOST}" -U postgres -w "${common[@]}")
    elif id postgres >/dev/null 2>&1 &&
        as_postgres psql "${common[@]}" -c 'SELECT 1' >/dev/null 2>&1; then
        PSQL_ADMIN=(as_postgres psql "${common[@]}")
    else
        die "no superuser access to PostgreSQL on ${PG_HOST}:${PG_PORT} (tried user postgres over TCP and the local socket)"
    fi
}

# Run SQL read from stdin with superuser rights; extra arguments go to psql
# (e.g. -v name=value, usable as :'name' in the SQL).
pg_admin() {
    [[ ${#PSQL_ADMIN[@]} -gt 0 ]] || pg_admin_init
    "${PSQL_ADMIN[@]}" "$@" -f -
}

# pg_login_role NAME PASSWORD: create or update a login role that may
# create databases; the password is reset on every call.
pg_login_role() {
    pg_admin -v role="$1" -v password="$2" <<'SQL'
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN CREATEDB NOSUPERUSER PASSWORD %L', :'role', :'password') \gexec
SQL
}

# pg_fresh_database NAME OWNER: drop the database (closing its connections)
# and create it empty, owned by OWNER.
pg_fresh_database() {
    pg_admin -v db="$1" -v owner="$2" <<'SQL'
SET client_min_messages = warning;
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'db') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner') \gexec
SQL
}
