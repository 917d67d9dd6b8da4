#!/usr/bin/env bash
# Create (first run) or refresh the project's virtual environment in .venv, then install the package.
# Pinned versions live in requirements/*.txt; the environment is rebuilt only when they change.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.requirements.sha1
want=$(cat requirements/*.txt | sha1sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup_env: creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    echo "setup_env: installing pinned requirements (first run takes a few minutes)" >&2
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r requirements/dev.txt
    echo "$want" > "$STAMP"
fi
# A normal (non-editable) install so console scripts and the share/ files (launch, config) exist.
# setuptools stages the package in build/; a stale stage would install modules that were moved or deleted.
rm -rf build
"$VENV/bin/pip" install -q --no-deps --no-build-isolation . >/dev/null
