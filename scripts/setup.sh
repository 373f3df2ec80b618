#!/usr/bin/env bash
# Create .venv and install upsamplekit with everything its commands and tests need.
# torch is pinned to the local CPU build by constraints.txt, so nothing pulls CUDA wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if [ "$extras" = "--test" ]; then
    target=".[test]"
else
    target="."
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e "$target"
