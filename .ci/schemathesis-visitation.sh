#!/usr/bin/env bash
# Property-based API tests of the visitation service with Schemathesis, with a token of each role
# that holds its scopes (registrar, visitor, practice).
#
# Usage: .ci/schemathesis-visitation.sh BINARY REGISTER_DATABASE_URL VISITATION_DATABASE_URL [CHECKED_IN_OPENAPI]
#
# Starts `BINARY serve all` (the register, which issues the tokens and answers the directory, and
# the visitation service) on free ports of 127.0.0.1 in a scratch directory, waits for both to be
# ready, creates a visitor and a practice client at the register and runs Schemathesis against
# the visitation service's /openapi.json once per role. Tools come from the repository's .venv
# (see .ci/run).
#
# Optional environment: PRR_CI_SCHEMATHESIS_MAX_EXAMPLES (default 25), PRR_CI_SCHEMATHESIS_SEED,
# PRR_CI_READY_TIMEOUT (default 120).
set -euo pipefail

repo_root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${repo_root}"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${repo_root}/.ci/lib.sh"

[[ $# -ge 3 && $# -le 4 ]] ||
    die "usage: $0 BINARY REGISTER_DATABASE_URL VISITATION_DATABASE_URL [CHECKED_IN_OPENAPI]"
binary="$(cd -- "$(dirname -- "$1")" && pwd -P)/$(basename -- "$1")"
register_database_url="$2"
visitation_database_url="$3"
checked_in="${4:-}"
[[ -x ${binary} ]] || die "not executable: $1"

venv="${repo_root}/.venv"
[[ -x ${venv}/bin/schemathesis ]] || die "schemathesis not installed in ${venv} (run .ci/run)"
python="${venv}/bin/python"

max_examples="${PRR_CI_SCHEMATHESIS_MAX_EXAMPLES:-25}"
ready_timeout="${PRR_CI_READY_TIMEOUT:-120}"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/praktijkregister-ci.XXXXXX")"
service_log="${scratch}/service.log"
service_pid=""

cleanup() {
    if [[ -n ${service_pid} ]] && kill -0 "${service_pid}" 2>/dev/null; then
        kill -TERM "${service_pid}" 2>/dev/null || true
        for _ in $(seq 1 20); do
            kill -0 "${service_pid}" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "${service_pid}" 2>/dev/null || true
        wait "${service_pid}" 2>/dev/null || true
    fi
    rm -rf -- "${scratch}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log() {
    printf -- '----- service log (last 200 lines) -----\n' >&2
    tail -n 200 -- "${service_log}" >&2 || true
    printf -- '----- end of service log -----\n' >&2
}

register_port="$(free_port)"
visitation_port="$(free_port)"
register_url="http://127.0.0.1:${register_port}"
visitation_url="http://127.0.0.1:${visitation_port}"
client_id=ci-registrar
client_secret="$(random_hex 24)"

openssl genpkey -algorithm ed25519 -out "${scratch}/signing_key.pem" 2>/dev/null ||
    die "openssl could not generate an Ed25519 key"

# A clean configuration; everything the services write (./var, the development secrets of the
# service clients) lands in the scratch directory.
service_env=(
    env -u PRR_CONFIG_FILE
    PRR__APP__ENVIRONMENT=development
    PRR__LOG__FORMAT=pretty
    PRR__REGISTER__HOST=127.0.0.1
    PRR__REGISTER__PORT="${register_port}"
    PRR__REGISTER__DATABASE_URL="${register_database_url}"
    PRR__REGISTER__BOOTSTRAP__REGISTRAR_CLIENT_ID="${client_id}"
    PRR__REGISTER__BOOTSTRAP__REGISTRAR_CLIENT_SECRET="${client_secret}"
    PRR__VISITATION__HOST=127.0.0.1
    PRR__VISITATION__PORT="${visitation_port}"
    PRR__VISITATION__DATABASE_URL="${visitation_database_url}"
    PRR__VISITATION__REGISTER_URL="${register_url}"
    PRR__VISITATION__SERVICE_CLIENT__TOKEN_URL="${register_url}/oauth/token"
    PRR__VISITATION__OUTBOX__DESTINATIONS__REGISTER="${register_url}/v1/internal/visitation-outcomes"
    PRR__AUTH__ISSUER="${register_url}"
    PRR__AUTH__AUDIENCE=praktijkregister
    PRR__AUTH__JWKS_URL="${register_url}/.well-known/jwks.json"
    PRR__AUTH__SIGNING_KEY_FILE="${scratch}/signing_key.pem"
    PRR__HTTP__RATE_LIMIT_PER_SECOND=10000
    PRR__HTTP__RATE_LIMIT_BURST=10000
)

info "migrating the databases"
if ! (cd "${scratch}" && "${service_env[@]}" "${binary}" migrate) >"${scratch}/migrate.log" 2>&1; then
    cat -- "${scratch}/migrate.log" >&2
    die "praktijkregister migrate failed"
fi

info "starting the register (${register_url}) and the visitation service (${visitation_url})"
(cd "${scratch}" && exec "${service_env[@]}" "${binary}" serve all) >"${service_log}" 2>&1 &
service_pid=$!

deadline=$((SECONDS + ready_timeout))
for url in "${register_url}" "${visitation_url}"; do
    until curl -fsS -o /dev/null --max-time 2 "${url}/health/ready" 2>/dev/null; do
        if ! kill -0 "${service_pid}" 2>/dev/null; then
            show_log
            die "the services exited before they became ready"
        fi
        if ((SECONDS >= deadline)); then
            show_log
            die "${url} was not ready within ${ready_timeout}s"
        fi
        sleep 1
    done
done
info "both ready"

if [[ -n ${checked_in} ]]; then
    curl -fsS --max-time 10 -o "${scratch}/served-openapi.json" "${visitation_url}/openapi.json" ||
        die "could not fetch ${visitation_url}/openapi.json"
    "${python}" "${repo_root}/.ci/compare_json.py" "${checked_in}" "${scratch}/served-openapi.json" ||
        die "${checked_in} differs from the served /openapi.json (regenerate it with: praktijkregister openapi visitation)"
    info "${checked_in} matches the served /openapi.json"
fi

# token ID SECRET: an access token by client credentials.
token() {
    curl -fsS --max-time 10 -u "$1:$2" --data-urlencode grant_type=client_credentials \
        "${register_url}/oauth/token" | "${python}" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

registrar_token="$(token "${client_id}" "${client_secret}")" || {
    show_log
    die "no registrar token"
}

# client BODY: creates a client at the register and prints "id:secret".
client() {
    curl -fsS --max-time 10 -H "Authorization: Bearer ${registrar_token}" \
        -H 'Content-Type: application/json' -d "$1" "${register_url}/v1/clients" |
        "${python}" -c 'import json, sys; c = json.load(sys.stdin); print(c["client_id"] + ":" + c["client_secret"])'
}

curl -fsS --max-time 10 -o /dev/null -H "Authorization: Bearer ${registrar_token}" \
    -H 'Content-Type: application/json' "${register_url}/v1/practices" -d '{
        "agb": "07000001", "name": "Oefentherapie CI", "kvk_number": "12345678",
        "contact": {"name": "J. de Vries", "email": "info@example.nl", "phone": "020 123 4567"},
        "locations": [{"agb": "07999999", "kvk_branch_number": "000012345678", "street": "Dorpsstraat",
            "house_number": "12a", "postal_code": "3512ab", "city": "Utrecht", "phone": "030 123 4567",
            "website": "https://example.nl", "own_entrance": true, "own_waiting_room": true,
            "own_reception": false, "own_administration": true, "own_logo": true}]}' ||
    die "could not create the practice of the practice client"
IFS=: read -r visitor_id visitor_secret < <(client '{"name": "ci visitor", "role": "visitor", "visitor_id": "ci-visitor"}')
IFS=: read -r practice_id practice_secret < <(client '{"name": "ci practice", "role": "practice", "practice_agb": "07000001"}')
visitor_token="$(token "${visitor_id}" "${visitor_secret}")" || die "no visitor token"
practice_token="$(token "${practice_id}" "${practice_secret}")" || die "no practice token"

common_args=(
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

for role in registrar visitor practice; do
    token_var="${role}_token"
    info "schemathesis: visitation service, ${role} token (max ${max_examples} examples per operation)"
    if ! (cd "${scratch}" && PYTHONPATH="${repo_root}/.ci" SCHEMATHESIS_HOOKS=schemathesis_hooks \
        "${venv}/bin/schemathesis" run "${visitation_url}/openapi.json" "${common_args[@]}" \
        --header "Authorization: Bearer ${!token_var}"); then
        show_log
        die "schemathesis found problems (visitation service, ${role} token)"
    fi
done
