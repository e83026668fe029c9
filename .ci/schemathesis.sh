#!/usr/bin/env bash
# Property-based API tests of the whole suite with Schemathesis: every service, with a token of
# every role, and every check.
#
# Usage: .ci/schemathesis.sh BINARY REGISTER_DB_URL VISITATION_DB_URL EXPORT_DB_URL
#
#   BINARY              the praktijkregister executable
#   *_DB_URL            empty PostgreSQL databases for the three services
#
# Starts `BINARY serve all` on free ports of 127.0.0.1 (.ci/lib.sh, suite_start), checks that
# each served /openapi.json equals the checked-in openapi/*.json, creates a client of every role
# with something to find (a practice, an insurer with criteria for next year), and runs
# Schemathesis against each service once per role. The registrar goes last: it may create
# another registrar and then revoke the CI's own, after which no new token is issued to it.
# Tools come from the repository's .venv (see .ci/run).
#
# Optional environment:
#   PRR_CI_SCHEMATHESIS_MAX_EXAMPLES   test cases per operation for the registrar (default 25;
#                                      the other roles, most of whose answers are 403, get a
#                                      third, in the examples and fuzzing phases)
#   PRR_CI_SCHEMATHESIS_SEED           fixed seed to reproduce a run
#   PRR_CI_READY_TIMEOUT               seconds to wait for readiness (default 120)
set -euo pipefail

repo_root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${repo_root}"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${repo_root}/.ci/lib.sh"

[[ $# -eq 4 ]] || die "usage: $0 BINARY REGISTER_DB_URL VISITATION_DB_URL EXPORT_DB_URL"
binary="$(cd -- "$(dirname -- "$1")" && pwd -P)/$(basename -- "$1")"
[[ -x ${binary} ]] || die "not executable: $1"

venv="${repo_root}/.venv"
[[ -x ${venv}/bin/schemathesis ]] || die "schemathesis not installed in ${venv} (run .ci/run)"
SUITE_PYTHON="${venv}/bin/python"

max_examples="${PRR_CI_SCHEMATHESIS_MAX_EXAMPLES:-25}"
role_examples=$(((max_examples + 2) / 3))

scratch="$(mktemp -d "${TMPDIR:-/tmp}/praktijkregister-ci.XXXXXX")"
kp_pid=""
cleanup() {
    suite_stop
    [[ -z ${kp_pid} ]] || kill "${kp_pid}" 2>/dev/null || true
    rm -rf -- "${scratch}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A stand-in KP lookup, so that verification answers instead of reporting it is not configured.
kp_port="$(free_port)"
"${SUITE_PYTHON}" "${repo_root}/deploy/kp-stand-in/kp_stand_in.py" "${kp_port}" &
kp_pid=$!
SUITE_EXTRA_CONFIG="[register.kp_verifier]
base_url = \"http://127.0.0.1:${kp_port}/\""

suite_start "${binary}" "${scratch}" "$2" "$3" "$4"
suite_compare_openapi "${REGISTER_URL}" openapi/register.json
suite_compare_openapi "${VISITATION_URL}" openapi/visitation.json
suite_compare_openapi "${EXPORT_URL}" openapi/insurer-export.json

# Something for every role to find: its practice, its insurer with criteria for next year.
practice_agb=07000001
uzovi=3311
suite_call POST "${REGISTER_URL}/v1/practices" "{
    \"agb\": \"${practice_agb}\", \"name\": \"Oefentherapie CI\", \"kvk_number\": \"12345678\",
    \"contact\": {\"name\": \"J. de Vries\", \"email\": \"info@example.nl\", \"phone\": \"020 123 4567\"},
    \"locations\": [{\"agb\": \"07999999\", \"kvk_branch_number\": \"000012345678\", \"street\": \"Dorpsstraat\",
        \"house_number\": \"12a\", \"postal_code\": \"3512ab\", \"city\": \"Utrecht\", \"phone\": \"030 123 4567\",
        \"website\": \"https://example.nl\", \"own_entrance\": true, \"own_waiting_room\": true,
        \"own_reception\": false, \"own_administration\": true, \"own_logo\": true}]}" ||
    die "could not create the practice of the practice client"
suite_call POST "${EXPORT_URL}/v1/insurers" \
    "{\"uzovi\": \"${uzovi}\", \"name\": \"CI insurer\", \"differentiated\": true}" ||
    die "could not create the insurer"
suite_call PUT "${EXPORT_URL}/v1/insurers/${uzovi}/criteria/$(($(date +%Y) + 1))" '{"base_set": "plus"}' ||
    die "could not set the insurer's criteria"

declare -A credentials
credentials[registrar]="${REGISTRAR_ID} ${REGISTRAR_SECRET}"
credentials[practice]="$(suite_client "{\"name\": \"ci practice\", \"role\": \"practice\", \"practice_agb\": \"${practice_agb}\"}")" ||
    die "could not create a practice client"
credentials[epd_vendor]="$(suite_client '{"name": "ci vendor", "role": "epd_vendor", "epd_vendor": "ci-vendor"}')" ||
    die "could not create an EPD vendor client"
credentials[insurer]="$(suite_client "{\"name\": \"ci insurer\", \"role\": \"insurer\", \"insurer_uzovi\": \"${uzovi}\"}")" ||
    die "could not create an insurer client"
credentials[visitor]="$(suite_client '{"name": "ci visitor", "role": "visitor", "visitor_id": "ci-visitor"}')" ||
    die "could not create a visitor client"
credentials[service]="$(suite_client '{"name": "ci service", "role": "service"}')" ||
    die "could not create a service client"

# Every check Schemathesis has. Schemathesis's own requests without credentials (ignored_auth)
# and with its invented data (use_after_free, ensure_resource_availability) are part of it.
common_args=(
    --checks all
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

# fuzz SERVICE_URL ROLE EXAMPLES [SCHEMATHESIS ARGS...]: one run with a fresh token of ROLE.
fuzz() {
    local url="$1" role="$2" examples="$3" token
    shift 3
    local id secret
    read -r id secret <<<"${credentials[${role}]}"
    token="$(suite_token "${id}" "${secret}")" || die "no token for the ${role} client"
    info "schemathesis: ${url}, ${role} token (max ${examples} examples per operation)"
    if ! (cd "${scratch}" && PYTHONPATH="${repo_root}/.ci" SCHEMATHESIS_HOOKS=schemathesis_hooks \
        "${venv}/bin/schemathesis" --config-file "${repo_root}/.ci/schemathesis.toml" run "${url}/openapi.json" --origin "${url}" "${common_args[@]}" \
        --max-examples "${examples}" --header "Authorization: Bearer ${token}" "$@"); then
        suite_show_log
        die "schemathesis found problems (${url}, ${role} token)"
    fi
}

# The other roles are refused most operations: their runs check what each may do and that the
# rest is refused, with the examples and random cases; the registrar's runs go through every phase.
for role in service practice epd_vendor insurer visitor; do
    for url in "${REGISTER_URL}" "${VISITATION_URL}" "${EXPORT_URL}"; do
        fuzz "${url}" "${role}" "${role_examples}" --phases examples,fuzzing --exclude-path /oauth/token
    done
done
fuzz "${VISITATION_URL}" registrar "${max_examples}"
fuzz "${EXPORT_URL}" registrar "${max_examples}"

# The token endpoint authenticates clients with HTTP Basic.
info "schemathesis: ${REGISTER_URL}/oauth/token, registrar client credentials"
(cd "${scratch}" && "${venv}/bin/schemathesis" --config-file "${repo_root}/.ci/schemathesis.toml" run "${REGISTER_URL}/openapi.json" --origin "${REGISTER_URL}" \
    "${common_args[@]}" --max-examples "${max_examples}" --include-path /oauth/token \
    --auth "${REGISTRAR_ID}:${REGISTRAR_SECRET}") || {
    suite_show_log
    die "schemathesis found problems (/oauth/token)"
}

fuzz "${REGISTER_URL}" registrar "${max_examples}" --exclude-path /oauth/token
