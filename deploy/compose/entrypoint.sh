#!/bin/sh
# Entry point of the suite's containers under Docker Compose, in front of `praktijkregister`.
#
# Compose hands secrets over as files under /run/secrets. The settings that have a file form of
# their own (auth.signing_key_file, register.credentials.hash_key_file) read them there directly;
# for the others this script moves the files into the environment before the binary starts:
#   /run/secrets/PRR__<KEY>          becomes the variable PRR__<KEY> (the file's content, without
#                                    its final newline; an empty file is left out, so the
#                                    setting keeps its default);
#   /run/secrets/database_password   is put into every PRR__<SERVICE>__DATABASE_URL given without
#                                    a password (postgres://role@host/db).
set -eu

secrets="${PRR_SECRETS_DIR:-/run/secrets}"

for file in "${secrets}"/PRR__*; do
    [ -f "${file}" ] || continue
    name=$(basename "${file}")
    value=$(cat "${file}")
    [ -n "${value}" ] || continue
    export "${name}=${value}"
done

if [ -f "${secrets}/database_password" ]; then
    password=$(cat "${secrets}/database_password")
    case "${password}" in
        "" | *[!A-Za-z0-9._~-]*)
            echo "error: ${secrets}/database_password must be non-empty and URL-safe (letters, digits, . _ ~ -)" >&2
            exit 1
            ;;
    esac
    for name in $(env | sed -n 's/^\(PRR__[A-Z0-9_]*__DATABASE_URL\)=.*/\1/p'); do
        eval "url=\${${name}}"
        export "${name}=$(printf '%s' "${url}" | sed "s#^\(postgres[a-z]*://[^:@/]*\)@#\1:${password}@#")"
    done
fi

exec praktijkregister "$@"
