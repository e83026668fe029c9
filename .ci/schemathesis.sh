#!/usr/bin/env bash
# Property-based API tests of one running service with Schemathesis.
#
# Usage: .ci/schemathesis.sh BINARY DATABASE_URL [CHECKED_IN_OPENAPI]
#
#   BINARY              the praktijkregister executable
#   DATABASE_URL        an empty PostgreSQL database for the register service
#   CHECKED_IN_OPENAPI  optional openapi/*.json that must equal the served document
#
# Starts `BINARY serve register` on a free port of 127.0.0.1 in a scratch
# directory, waits for /health/ready, obtains a registrar token from
# /oauth/token and runs Schemathesis against /openapi.json. Tools come from
# the repository's .venv (see .ci/run).
#
# Optional environment:
#   PRR_CI_SCHEMATHESIS_MAX_EXAMPLES   test cases per operation (default 25)
#   PRR_CI_SCHEMATHESIS_SEED           fixed seed to reproduce a run
#   PRR_CI_READY_TIMEOUT               seconds to wait for readiness (default 120)
set -euo pipefail

repo_root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${repo_root}"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${repo_root}/.ci/lib.sh"

[[ $# -ge 2 && $# -le 3 ]] || die "usage: $0 BINARY DATABASE_URL [CHECKED_IN_OPENAPI]"
binary="$(cd -- "$(dirname -- "$1")" && pwd -P)/$(basename -- "$1")"
database_url="$2"
checked_in="${3:-}"
[[ -x ${binary} ]] || die "not executable: $1"

venv="${repo_root}/.venv"
[[ -x ${venv}/bin/schemathesis ]] || die "schemathesis not installed in ${venv} (run .ci/run)"

max_examples="${PRR_CI_SCHEMATHESIS_MAX_EXAMPLES:-25}"
ready_timeout="${PRR_CI_READY_TIMEOUT:-120}"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/praktijkregister-ci.XXXXXX")"
service_log="${scratch}/service.log"
service_pid=""
kp_stub_pid=""

stop_service() {
    if [[ -n ${service_pid} ]] && kill -0 "${service_pid}" 2>/dev/null; then
        kill -TERM "${service_pid}" 2>/dev/null || true
        for _ in $(seq 1 20); do
            kill -0 "${service_pid}" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "${service_pid}" 2>/dev/null || true
        wait "${service_pid}" 2>/dev/null || true
    fi
    service_pid=""
}
cleanup() {
    stop_service
    if [[ -n ${kp_stub_pid} ]]; then
        kill "${kp_stub_pid}" 2>/dev/null || true
        wait "${kp_stub_pid}" 2>/dev/null || true
    fi
    rm -rf -- "${scratch}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log() {
    local lines="${1:-200}"
    printf -- '----- service log (last %s lines) -----\n' "${lines}" >&2
    tail -n "${lines}" -- "${service_log}" >&2 || true
    printf -- '----- end of service log -----\n' >&2
}

port="$(free_port)"
base_url="http://127.0.0.1:${port}"
client_id=ci-registrar
client_secret="$(random_hex 24)"
token_path=/oauth/token

openssl genpkey -algorithm ed25519 -out "${scratch}/signing_key.pem" 2>/dev/null ||
    die "openssl could not generate an Ed25519 key"

# A stand-in KP lookup, so that verification answers instead of reporting it is not configured.
kp_port="$(free_port)"
"${venv}/bin/python" "${repo_root}/deploy/kp-stand-in/kp_stand_in.py" "${kp_port}" &
kp_stub_pid=$!

# The service runs with a clean configuration: no config file from the caller,
# and everything it writes (./var) lands in the scratch directory.
service_env=(
    env -u PRR_CONFIG_FILE
    PRR__APP__ENVIRONMENT=development
    PRR__LOG__FORMAT=pretty
    PRR__REGISTER__HOST=127.0.0.1
    PRR__REGISTER__PORT="${port}"
    PRR__REGISTER__DATABASE_URL="${database_url}"
    PRR__AUTH__ISSUER="${base_url}"
    PRR__AUTH__AUDIENCE=praktijkregister
    PRR__AUTH__SIGNING_KEY_FILE="${scratch}/signing_key.pem"
    PRR__REGISTER__BOOTSTRAP__REGISTRAR_CLIENT_ID="${client_id}"
    PRR__REGISTER__BOOTSTRAP__REGISTRAR_CLIENT_SECRET="${client_secret}"
    PRR__REGISTER__KP_VERIFIER__BASE_URL="http://127.0.0.1:${kp_port}/"
    # The fuzzer is one client sending as fast as it can: let it test the logic, not the limiter.
    PRR__HTTP__RATE_LIMIT_PER_SECOND=10000
    PRR__HTTP__RATE_LIMIT_BURST=10000
)

info "migrating the database"
if ! (cd "${scratch}" && "${service_env[@]}" "${binary}" migrate) >"${scratch}/migrate.log" 2>&1; then
    cat -- "${scratch}/migrate.log" >&2
    die "praktijkregister migrate failed"
fi

info "starting the register service on ${base_url}"
(cd "${scratch}" && exec "${service_env[@]}" "${binary}" serve register) >"${service_log}" 2>&1 &
service_pid=$!

deadline=$((SECONDS + ready_timeout))
until curl -fsS -o /dev/null --max-time 2 "${base_url}/health/ready" 2>/dev/null; do
    if ! kill -0 "${service_pid}" 2>/dev/null; then
        show_log
        die "the register service exited before it became ready"
    fi
    if ((SECONDS >= deadline)); then
        show_log
        die "the register service was not ready within ${ready_timeout}s"
    fi
    sleep 1
done
info "ready after $((SECONDS + ready_timeout - deadline))s"

if [[ -n ${checked_in} ]]; then
    if [[ -f ${checked_in} ]]; then
        curl -fsS --max-time 10 -o "${scratch}/served-openapi.json" "${base_url}/openapi.json" ||
            die "could not fetch ${base_url}/openapi.json"
        "${venv}/bin/python" "${repo_root}/.ci/compare_json.py" "${checked_in}" "${scratch}/served-openapi.json" ||
            die "${checked_in} differs from the served /openapi.json (regenerate it with: praktijkregister openapi register)"
        info "${checked_in} matches the served /openapi.json"
    else
        warn "${checked_in} not found; skipping the comparison with the served document"
    fi
fi

info "requesting a registrar token"
token_response="$(curl -fsS --max-time 10 -u "${client_id}:${client_secret}" \
    --data-urlencode grant_type=client_credentials "${base_url}${token_path}")" || {
    show_log 50
    die "POST /oauth/token with the bootstrap registrar client failed"
}
access_token="$(printf '%s' "${token_response}" | "${venv}/bin/python" -c '
import json, sys
body = json.load(sys.stdin)
if str(body.get("token_type", "")).lower() != "bearer" or not body.get("access_token"):
    sys.exit("unexpected token response: keys " + ", ".join(sorted(body)))
print(body["access_token"])')" || die "no bearer token in the /oauth/token response"

common_args=(
    --origin "${base_url}"
    --checks "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"
    --max-examples "${max_examples}"
    --workers 1
    --request-timeout 30
    --suppress-health-check too_slow
    --generation-with-security-parameters false
    --generation-database none
    --no-color
)
if [[ -n ${PRR_CI_SCHEMATHESIS_SEED:-} ]]; then
    common_args+=(--seed "${PRR_CI_SCHEMATHESIS_SEED}")
fi

run_schemathesis() {
    local title="$1"
    shift
    info "schemathesis: ${title} (max ${max_examples} examples per operation)"
    if ! (cd "${scratch}" && PYTHONPATH="${repo_root}/.ci" SCHEMATHESIS_HOOKS=schemathesis_hooks \
        "${venv}/bin/schemathesis" run "${base_url}/openapi.json" "${common_args[@]}" "$@"); then
        show_log 200
        die "schemathesis found problems (${title})"
    fi
}

# The token endpoint authenticates clients with HTTP Basic, every other
# operation with the bearer token: one run each.
run_schemathesis "all operations except ${token_path} and internal ones, registrar token" \
    --exclude-path "${token_path}" \
    --exclude-path-regex '^/v1/internal/' \
    --header "Authorization: Bearer ${access_token}"

# Internal operations take a token of the service role: create such a client first.
info "creating a service client for the internal operations"
service_client="$(curl -fsS --max-time 10 -H "Authorization: Bearer ${access_token}" \
    -H 'Content-Type: application/json' -d '{"name": "ci service", "role": "service"}' \
    "${base_url}/v1/clients")" || die "could not create a service client"
service_token="$(printf '%s' "${service_client}" | "${venv}/bin/python" -c '
import json, sys
client = json.load(sys.stdin)
print(client["client_id"] + ":" + client["client_secret"])' |
    { IFS=: read -r id secret; curl -fsS --max-time 10 -u "${id}:${secret}" \
        --data-urlencode grant_type=client_credentials "${base_url}${token_path}"; } |
    "${venv}/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')" ||
    die "no token for the service client"
run_schemathesis "internal operations, service token" \
    --include-path-regex '^/v1/internal/' \
    --header "Authorization: Bearer ${service_token}"

if curl -fsS --max-time 10 "${base_url}/openapi.json" |
    "${venv}/bin/python" -c 'import json, sys; sys.exit(0 if sys.argv[1] in json.load(sys.stdin).get("paths", {}) else 1)' "${token_path}"; then
    run_schemathesis "${token_path}, registrar client credentials" \
        --include-path "${token_path}" \
        --auth "${client_id}:${client_secret}"
else
    warn "${token_path} is not in the served OpenAPI document; not fuzzed"
fi
