#!/usr/bin/env bash
# Property-based API tests of the insurer-export service with Schemathesis.
#
# Usage: .ci/schemathesis-insurer-export.sh BINARY REGISTER_DATABASE_URL EXPORT_DATABASE_URL [CHECKED_IN_OPENAPI]
#
# Starts the register (the token issuer, and the evidence feed the snapshots are built from) and
# the insurer-export service on free ports of 127.0.0.1 in a scratch directory, creates an
# insurer client and the export service's client of the register, and runs Schemathesis against
# the export service's /openapi.json with a token of each role it serves: registrar, insurer
# (bound to one UZOVI code) and service (the internal event endpoint). Tools come from the
# repository's .venv (see .ci/run).
#
# Optional environment: PRR_CI_SCHEMATHESIS_MAX_EXAMPLES (default 25), PRR_CI_SCHEMATHESIS_SEED,
# PRR_CI_READY_TIMEOUT (seconds, default 120).
set -euo pipefail

repo_root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${repo_root}"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${repo_root}/.ci/lib.sh"

[[ $# -ge 3 && $# -le 4 ]] ||
    die "usage: $0 BINARY REGISTER_DATABASE_URL EXPORT_DATABASE_URL [CHECKED_IN_OPENAPI]"
binary="$(cd -- "$(dirname -- "$1")" && pwd -P)/$(basename -- "$1")"
register_database_url="$2"
export_database_url="$3"
checked_in="${4:-}"
[[ -x ${binary} ]] || die "not executable: $1"

venv="${repo_root}/.venv"
[[ -x ${venv}/bin/schemathesis ]] || die "schemathesis not installed in ${venv} (run .ci/run)"
python="${venv}/bin/python"

max_examples="${PRR_CI_SCHEMATHESIS_MAX_EXAMPLES:-25}"
ready_timeout="${PRR_CI_READY_TIMEOUT:-120}"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/praktijkregister-ci.XXXXXX")"
pids=()

cleanup() {
    for pid in "${pids[@]}"; do
        kill -TERM "${pid}" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "${pid}" 2>/dev/null || true
    done
    rm -rf -- "${scratch}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_logs() {
    for log in "${scratch}"/*.log; do
        printf -- '----- %s (last 100 lines) -----\n' "$(basename -- "${log}")" >&2
        tail -n 100 -- "${log}" >&2 || true
    done
}

register_port="$(free_port)"
export_port="$(free_port)"
register_url="http://127.0.0.1:${register_port}"
export_url="http://127.0.0.1:${export_port}"
registrar_id=ci-registrar
registrar_secret="$(random_hex 24)"
uzovi=3311

openssl genpkey -algorithm ed25519 -out "${scratch}/signing_key.pem" 2>/dev/null ||
    die "openssl could not generate an Ed25519 key"

common_env=(
    env -u PRR_CONFIG_FILE
    PRR__APP__ENVIRONMENT=development
    PRR__LOG__FORMAT=pretty
    PRR__AUTH__ISSUER="${register_url}"
    PRR__AUTH__AUDIENCE=praktijkregister
    PRR__AUTH__SIGNING_KEY_FILE="${scratch}/signing_key.pem"
    PRR__AUTH__JWKS_URL="${register_url}/.well-known/jwks.json"
    PRR__HTTP__RATE_LIMIT_PER_SECOND=10000
    PRR__HTTP__RATE_LIMIT_BURST=10000
    PRR__REGISTER__HOST=127.0.0.1
    PRR__REGISTER__PORT="${register_port}"
    PRR__REGISTER__DATABASE_URL="${register_database_url}"
    PRR__REGISTER__BOOTSTRAP__REGISTRAR_CLIENT_ID="${registrar_id}"
    PRR__REGISTER__BOOTSTRAP__REGISTRAR_CLIENT_SECRET="${registrar_secret}"
    PRR__INSURER_EXPORT__HOST=127.0.0.1
    PRR__INSURER_EXPORT__PORT="${export_port}"
    PRR__INSURER_EXPORT__DATABASE_URL="${export_database_url}"
    PRR__INSURER_EXPORT__REGISTER_URL="${register_url}"
    PRR__INSURER_EXPORT__SERVICE_CLIENT__TOKEN_URL="${register_url}/oauth/token"
    PRR__INSURER_EXPORT__SCHEDULE__ENABLED=false
)

wait_ready() {
    local name="$1" url="$2" pid="$3"
    local deadline=$((SECONDS + ready_timeout))
    until curl -fsS -o /dev/null --max-time 2 "${url}/health/ready" 2>/dev/null; do
        kill -0 "${pid}" 2>/dev/null || {
            show_logs
            die "the ${name} service exited before it became ready"
        }
        ((SECONDS < deadline)) || {
            show_logs
            die "the ${name} service was not ready within ${ready_timeout}s"
        }
        sleep 1
    done
    info "${name} ready at ${url}"
}

token() {
    curl -fsS --max-time 10 -u "$1:$2" --data-urlencode grant_type=client_credentials \
        "${register_url}/oauth/token" |
        "${python}" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# A client of the register: prints "id secret".
new_client() {
    curl -fsS --max-time 10 -H "Authorization: Bearer ${registrar_token}" \
        -H 'Content-Type: application/json' -d "$1" "${register_url}/v1/clients" |
        "${python}" -c 'import json, sys; c = json.load(sys.stdin); print(c["client_id"], c["client_secret"])'
}

info "migrating the databases"
(cd "${scratch}" && "${common_env[@]}" "${binary}" migrate register && "${common_env[@]}" "${binary}" migrate insurer_export) \
    >"${scratch}/migrate.log" 2>&1 || {
    cat -- "${scratch}/migrate.log" >&2
    die "praktijkregister migrate failed"
}

info "starting the register service"
(cd "${scratch}" && exec "${common_env[@]}" "${binary}" serve register) >"${scratch}/register.log" 2>&1 &
pids+=($!)
wait_ready register "${register_url}" "${pids[-1]}"

registrar_token="$(token "${registrar_id}" "${registrar_secret}")" || die "no registrar token"
read -r export_client_id export_client_secret < <(new_client '{"name": "insurer export", "role": "service"}') ||
    die "could not create the export service's client"
read -r insurer_id insurer_secret < <(new_client "{\"name\": \"ci insurer\", \"role\": \"insurer\", \"insurer_uzovi\": \"${uzovi}\"}") ||
    die "could not create an insurer client"
read -r service_id service_secret < <(new_client '{"name": "ci service", "role": "service"}') ||
    die "could not create a service client"

info "starting the insurer-export service"
(cd "${scratch}" && exec "${common_env[@]}" \
    PRR__INSURER_EXPORT__SERVICE_CLIENT__CLIENT_ID="${export_client_id}" \
    PRR__INSURER_EXPORT__SERVICE_CLIENT__CLIENT_SECRET="${export_client_secret}" \
    "${binary}" serve insurer_export) >"${scratch}/insurer-export.log" 2>&1 &
pids+=($!)
wait_ready insurer-export "${export_url}" "${pids[-1]}"

if [[ -n ${checked_in} ]]; then
    curl -fsS --max-time 10 -o "${scratch}/served-openapi.json" "${export_url}/openapi.json" ||
        die "could not fetch ${export_url}/openapi.json"
    "${python}" "${repo_root}/.ci/compare_json.py" "${checked_in}" "${scratch}/served-openapi.json" ||
        die "${checked_in} differs from the served /openapi.json (regenerate it with: praktijkregister openapi insurer_export)"
    info "${checked_in} matches the served /openapi.json"
fi

# Data for the fuzzer to find: the insurer of the insurer client, with criteria for next year.
contract_year=$(($(date +%Y) + 1))
curl -fsS --max-time 10 -H "Authorization: Bearer ${registrar_token}" -H 'Content-Type: application/json' \
    -d "{\"uzovi\": \"${uzovi}\", \"name\": \"CI insurer\", \"differentiated\": true}" \
    "${export_url}/v1/insurers" >/dev/null || die "could not create the insurer"
curl -fsS --max-time 10 -X PUT -H "Authorization: Bearer ${registrar_token}" -H 'Content-Type: application/json' \
    -d '{"base_set": "plus"}' "${export_url}/v1/insurers/${uzovi}/criteria/${contract_year}" >/dev/null ||
    die "could not set the insurer's criteria"

insurer_token="$(token "${insurer_id}" "${insurer_secret}")" || die "no insurer token"
service_token="$(token "${service_id}" "${service_secret}")" || die "no service token"

common_args=(
    --origin "${export_url}"
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
        "${venv}/bin/schemathesis" run "${export_url}/openapi.json" "${common_args[@]}" "$@"); then
        show_logs
        die "schemathesis found problems (${title})"
    fi
}

run_schemathesis "all operations except internal ones, registrar token" \
    --exclude-path-regex '^/v1/internal/' \
    --header "Authorization: Bearer ${registrar_token}"
run_schemathesis "the insurer's operations, insurer token" \
    --include-path-regex '^/v1/insurers' \
    --header "Authorization: Bearer ${insurer_token}"
run_schemathesis "internal operations, service token" \
    --include-path-regex '^/v1/internal/' \
    --header "Authorization: Bearer ${service_token}"
