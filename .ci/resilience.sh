#!/usr/bin/env bash
# Resilience suite (DESIGN §6): PostgreSQL restarted and crashed under write load, SIGTERM under
# load, the receiver of the register's events down, the connection pool exhausted.
#
# Usage: .ci/resilience.sh BINARY [--only a-fast,a-crash,b,c,d,e] [--output FIGURES.json]
#
# Runs .ci/resilience.py (standard library only) with the system's python3. It creates a private
# PostgreSQL cluster of its own (initdb, as an unprivileged user when run as root) on a free port
# in a scratch directory, and never restarts or stops any other PostgreSQL. The durations and sizes
# are environment variables with CI defaults (PRR_RESILIENCE_*); see the head of resilience.py.
set -euo pipefail

repo_root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${repo_root}/.ci/lib.sh"

[[ $# -ge 1 ]] || die "usage: $0 BINARY [--only a-fast,a-crash,b,c,d,e] [--output FIGURES.json]"
[[ -x $1 ]] || die "not executable: $1"
for tool in psql python3; do
    command -v "${tool}" >/dev/null 2>&1 || die "${tool} not found (.ci/run installs it)"
done
if [[ ${EUID} -eq 0 ]] && ! command -v runuser >/dev/null 2>&1; then
    die "runuser not found: as root the private cluster must run as an unprivileged user"
fi

exec python3 "${repo_root}/.ci/resilience.py" "$@"
