#!/usr/bin/env bash
# Create .venv and install upsamplekit with its study extra (the main job); with --test, with everything
# the test suite needs (the real frameworks of the parity suite, PostgreSQL drivers, mypy).
# torch is pinned to the local CPU build by constraints.txt, so nothing pulls CUDA wheels.
# With --test, also make sure a PostgreSQL server is installed: the shared-storage study tests start
# a throwaway one of their own (tests/study/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

have_postgres_server() {
    command -v initdb >/dev/null 2>&1 && return 0
    local bin
    for bin in /usr/lib/postgresql/*/bin; do
        [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && [ -x "$bin/postgres" ] && return 0
    done
    return 1
}

install_postgres_server() {
    have_postgres_server && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup.sh: no PostgreSQL server found (initdb on PATH or under /usr/lib/postgresql/*/bin);" \
             "the PostgreSQL study tests need one and will fail until it is installed:" \
             "sudo apt-get install postgresql (or run this script as root)" >&2
        return 0
    fi
    echo "setup.sh: installing the PostgreSQL server for the tests (apt-get install postgresql)" >&2
    local log
    log="$(mktemp)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            postgresql; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "setup.sh: apt-get could not install postgresql (output above)" >&2
        return 1
    fi
    rm -f "$log"
    have_postgres_server || { echo "setup.sh: postgresql installed, but no initdb found" >&2; return 1; }
}

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if [ "$extras" = "--test" ]; then
    target=".[test]"
    install_postgres_server
else
    target=".[study]"
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e "$target"
