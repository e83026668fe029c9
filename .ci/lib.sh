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

###############################################################################
# The whole suite on free ports of 127.0.0.1, for the scripts that drive running services.
#
#   suite_start BINARY SCRATCH REGISTER_DB_URL VISITATION_DB_URL EXPORT_DB_URL
#
# writes a configuration file into SCRATCH that wires the three services to each other, migrates
# the databases and runs `BINARY serve all` in SCRATCH (everything it writes lands there), then
# waits until every service is ready. Afterwards REGISTER_URL, VISITATION_URL, EXPORT_URL,
# REGISTRAR_ID and REGISTRAR_SECRET are set; suite_stop (registered on EXIT) stops the process.
# Optional: PRR_CI_READY_TIMEOUT (seconds, default 120); SUITE_EXTRA_CONFIG (TOML appended to the
# configuration file).

SUITE_PID=""
SUITE_LOG=""
SUITE_PYTHON="${SUITE_PYTHON:-python3}"

suite_show_log() {
    printf -- '----- service log (last %s lines) -----\n' "${1:-200}" >&2
    tail -n "${1:-200}" -- "${SUITE_LOG}" >&2 || true
    printf -- '----- end of service log -----\n' >&2
}

suite_stop() {
    if [[ -n ${SUITE_PID} ]] && kill -0 "${SUITE_PID}" 2>/dev/null; then
        kill -TERM "${SUITE_PID}" 2>/dev/null || true
        for _ in $(seq 1 40); do
            kill -0 "${SUITE_PID}" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "${SUITE_PID}" 2>/dev/null || true
        wait "${SUITE_PID}" 2>/dev/null || true
    fi
    SUITE_PID=""
}

suite_start() {
    local binary="$1" scratch="$2" register_db="$3" visitation_db="$4" export_db="$5"
    local ready_timeout="${PRR_CI_READY_TIMEOUT:-120}"
    REGISTER_URL="http://127.0.0.1:$(free_port)"
    VISITATION_URL="http://127.0.0.1:$(free_port)"
    EXPORT_URL="http://127.0.0.1:$(free_port)"
    REGISTRAR_ID=ci-registrar
    REGISTRAR_SECRET="$(random_hex 24)"
    SUITE_LOG="${scratch}/services.log"
    openssl genpkey -algorithm ed25519 -out "${scratch}/signing_key.pem" 2>/dev/null ||
        die "openssl could not generate an Ed25519 key"
    cat >"${scratch}/suite.toml" <<TOML
[app]
environment = "development"
[log]
format = "pretty"
[http]
# The scripts are single clients sending as fast as they can: test the logic, not the limiter.
rate_limit_per_second = 10000
rate_limit_burst = 10000
[auth]
issuer = "${REGISTER_URL}"
audience = "praktijkregister"
jwks_url = "${REGISTER_URL}/.well-known/jwks.json"
signing_key_file = "${scratch}/signing_key.pem"

[register]
host = "127.0.0.1"
port = ${REGISTER_URL##*:}
database_url = "${register_db}"
[register.bootstrap]
registrar_client_id = "${REGISTRAR_ID}"
registrar_client_secret = "${REGISTRAR_SECRET}"
[register.outbox.destinations]
"insurer-export" = "${EXPORT_URL}/v1/internal/register-events"
[register.insurer_export]
base_url = "${EXPORT_URL}"
[register.service_client]
token_url = "${REGISTER_URL}/oauth/token"

[visitation]
host = "127.0.0.1"
port = ${VISITATION_URL##*:}
database_url = "${visitation_db}"
register_url = "${REGISTER_URL}"
[visitation.outbox.destinations]
register = "${REGISTER_URL}/v1/internal/visitation-outcomes"
[visitation.service_client]
token_url = "${REGISTER_URL}/oauth/token"

[insurer_export]
host = "127.0.0.1"
port = ${EXPORT_URL##*:}
database_url = "${export_db}"
register_url = "${REGISTER_URL}"
[insurer_export.schedule]
enabled = false
[insurer_export.service_client]
token_url = "${REGISTER_URL}/oauth/token"
TOML
    [[ -z ${SUITE_EXTRA_CONFIG:-} ]] || printf '%s\n' "${SUITE_EXTRA_CONFIG}" >>"${scratch}/suite.toml"

    info "migrating the databases"
    (cd "${scratch}" && env -u PRR_CONFIG_FILE "${binary}" --config suite.toml migrate all) \
        >"${scratch}/migrate.log" 2>&1 || {
        cat -- "${scratch}/migrate.log" >&2
        die "praktijkregister migrate failed"
    }
    info "starting the suite: register ${REGISTER_URL}, visitation ${VISITATION_URL}, insurer-export ${EXPORT_URL}"
    (cd "${scratch}" && exec env -u PRR_CONFIG_FILE "${binary}" --config suite.toml serve all) >"${SUITE_LOG}" 2>&1 &
    SUITE_PID=$!
    local deadline=$((SECONDS + ready_timeout)) url
    for url in "${REGISTER_URL}" "${VISITATION_URL}" "${EXPORT_URL}"; do
        until curl -fsS -o /dev/null --max-time 2 "${url}/health/ready" 2>/dev/null; do
            if ! kill -0 "${SUITE_PID}" 2>/dev/null; then
                suite_show_log
                die "the services exited before they became ready"
            fi
            if ((SECONDS >= deadline)); then
                suite_show_log
                die "${url} was not ready within ${ready_timeout}s"
            fi
            sleep 1
        done
    done
    info "all three ready"
}

# suite_token ID SECRET [SCOPE]: a fresh access token by client credentials.
suite_token() {
    curl -fsS --max-time 10 -u "$1:$2" --data-urlencode grant_type=client_credentials \
        ${3:+--data-urlencode "scope=$3"} "${REGISTER_URL}/oauth/token" |
        "${SUITE_PYTHON}" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# suite_as_registrar METHOD URL [BODY]: a JSON request with a fresh registrar token that must
# succeed; prints the answer.
suite_as_registrar() {
    local token
    token="$(suite_token "${REGISTRAR_ID}" "${REGISTRAR_SECRET}")" || return 1
    curl -fsS --max-time 10 -X "$1" -H "Authorization: Bearer ${token}" \
        -H 'Content-Type: application/json' ${3:+-d "$3"} "$2"
}

# suite_client BODY: creates a client at the register as the registrar; prints "ID SECRET".
suite_client() {
    suite_as_registrar POST "${REGISTER_URL}/v1/clients" "$1" |
        "${SUITE_PYTHON}" -c 'import json, sys; c = json.load(sys.stdin); print(c["client_id"], c["client_secret"])'
}

# suite_call METHOD URL [BODY]: a request as the registrar that must succeed; the answer is dropped.
suite_call() {
    suite_as_registrar "$@" >/dev/null
}

# suite_compare_openapi URL CHECKED_IN: the served document equals the checked-in one.
suite_compare_openapi() {
    local served
    served="$(mktemp)"
    curl -fsS --max-time 10 -o "${served}" "$1/openapi.json" || die "could not fetch $1/openapi.json"
    "${SUITE_PYTHON}" "$(dirname -- "${BASH_SOURCE[0]}")/compare_json.py" "$2" "${served}" ||
        die "$2 differs from $1/openapi.json (regenerate it: see README, Contract)"
    rm -f -- "${served}"
    info "$2 matches the served /openapi.json"
}
