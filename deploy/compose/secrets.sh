#!/bin/sh
# Creates the secret files docker-compose.yml reads, under deploy/secrets/.
#
# Usage (from the repository root):
#   deploy/compose/secrets.sh           keys, passwords and the registrar secret; files that exist
#                                       are kept
#   deploy/compose/secrets.sh clients   creates the three service clients (role service) in the
#                                       register's database and writes their ids and secrets
#
# The containers read the files through bind mounts as they are on the host: PostgreSQL as uid
# 999, the services as uid 10001. The files are therefore world-readable (0644) inside a
# directory only the owner may enter (0700).
set -eu

cd "$(dirname "$0")/../.."
dir=deploy/secrets
mkdir -p "${dir}"
chmod 0700 "${dir}"

# write NAME COMMAND...: stores the command's output as deploy/secrets/NAME unless it exists.
write() {
    name=$1
    shift
    if [ -s "${dir}/${name}" ]; then
        echo "kept    ${dir}/${name}"
        return
    fi
    "$@" >"${dir}/${name}.new"
    mv "${dir}/${name}.new" "${dir}/${name}"
    chmod 0644 "${dir}/${name}"
    echo "created ${dir}/${name}"
}

if [ "${1:-}" = clients ]; then
    docker compose up -d --wait postgres
    # client_file_prefix name
    for client in \
        "register_outbox|Register outbox" \
        "visitation|Visitation service" \
        "insurer_export|Insurer-export service"; do
        prefix=${client%%|*}
        name=${client#*|}
        if [ -s "${dir}/${prefix}_client_secret" ]; then
            echo "kept    ${dir}/${prefix}_client_id and _client_secret"
            continue
        fi
        output=$(docker compose run --rm --no-deps -T register \
            client create --role service --name "${name}")
        printf '%s\n' "${output}" | sed -n 's/^client_id=//p' >"${dir}/${prefix}_client_id"
        printf '%s\n' "${output}" | sed -n 's/^client_secret=//p' >"${dir}/${prefix}_client_secret"
        chmod 0644 "${dir}/${prefix}_client_id" "${dir}/${prefix}_client_secret"
        if [ ! -s "${dir}/${prefix}_client_secret" ]; then
            echo "error: no client_secret in the output of client create for ${name}" >&2
            exit 1
        fi
        echo "created ${dir}/${prefix}_client_id and _client_secret ($(cat "${dir}/${prefix}_client_id"))"
    done
    exit 0
fi

write postgres_password openssl rand -hex 24
for role in register visitation insurer_export; do
    write "${role}_db_password" openssl rand -hex 24
done
write signing_key.pem openssl genpkey -algorithm ed25519
write credentials_hash_key openssl rand -base64 32
write webhook_secret_key openssl rand -base64 32
write registrar_secret openssl rand -hex 32
# Filled by `deploy/compose/secrets.sh clients`; empty until then (the services keep their
# default client ids and cannot get tokens yet).
for prefix in register_outbox visitation insurer_export; do
    for part in client_id client_secret; do
        [ -e "${dir}/${prefix}_${part}" ] || { : >"${dir}/${prefix}_${part}" && chmod 0644 "${dir}/${prefix}_${part}"; }
    done
done
