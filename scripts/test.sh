#!/usr/bin/env bash
# The test command of README.md: everything the test suite needs, then the whole suite.
#
#   scripts/test.sh                 # all tests of the workspace
#   scripts/test.sh interop         # extra arguments go to `cargo test` (here: a name filter)
#
# 1. A Python virtualenv at ./.venv with requirements-test.txt (PyJWT, Django, DRF, simplejwt),
#    created on first use; pip runs again only when requirements-test.txt or the Python changes.
# 2. A quick check that the Django + simplejwt fixture (interop/django) works with those packages.
# 3. `cargo test --workspace --locked`, with TESSERA_PYTHON pointing at the virtualenv's python:
#    the interop tests run PyJWT and Django through it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

python=${PYTHON:-python3}
venv=$repo/.venv
stamp=$venv/.requirements-test.sha256

log() { printf 'test.sh: %s\n' "$*" >&2; }

# A virtualenv whose interpreter moved or vanished cannot be repaired in place: start over.
if [[ -d $venv ]] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "recreating broken $venv"
    rm -rf "$venv"
fi
if [[ ! -x $venv/bin/python ]]; then
    log "creating $venv"
    "$python" -m venv "$venv"
fi

want=$( { sha256sum requirements-test.txt; "$venv/bin/python" -VV; } | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(<"$stamp") != "$want" ]]; then
    log "installing requirements-test.txt into $venv"
    rm -f "$stamp"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        "$venv/bin/python" -m pip install --quiet --require-virtualenv -r requirements-test.txt
    printf '%s\n' "$want" >"$stamp"
fi

export TESSERA_PYTHON=$venv/bin/python
# No .pyc files next to the fixture's sources.
export PYTHONDONTWRITEBYTECODE=1

"$TESSERA_PYTHON" interop/django/selftest.py

# --no-fail-fast: one run reports every failing test binary, not just the first.
cargo test --workspace --locked --no-fail-fast "$@"
