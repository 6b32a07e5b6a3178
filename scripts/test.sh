#!/usr/bin/env bash
# The test command: formatting, lint, types, then the test suite (extra arguments go to pytest).
#
#   bash scripts/test.sh                      # against a temporary SQLite file
#   FUPIN_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/fupin_test bash scripts/test.sh
#
# Stops at the first step that fails and exits with its status.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The python of the active venv, else the project's .venv, else python3.
if [[ -n "${VIRTUAL_ENV:-}" && -x "${VIRTUAL_ENV}/bin/python" ]]; then
    PYTHON="${VIRTUAL_ENV}/bin/python"
elif [[ -x .venv/bin/python ]]; then
    PYTHON=.venv/bin/python
else
    PYTHON=python3
fi

if [[ -n "${FUPIN_TEST_DATABASE_URL:-}" ]]; then
    # Hide a password, if the URL carries one.
    shown="$(printf '%s' "$FUPIN_TEST_DATABASE_URL" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')"
    echo "== fupin tests: database ${shown} (FUPIN_TEST_DATABASE_URL), python ${PYTHON}"
else
    echo "== fupin tests: database SQLite (temporary file; set FUPIN_TEST_DATABASE_URL for PostgreSQL), python ${PYTHON}"
fi

step() {
    echo "-- $*"
    "$@"
}

# Only the folders that exist and hold Python files (ruff warns, but passes, on an empty one).
existing() {
    local dir
    for dir in "$@"; do
        if [[ -d "$dir" ]] && [[ -n "$(find "$dir" -name '*.py' -print -quit)" ]]; then
            printf '%s\n' "$dir"
        fi
    done
}

mapfile -t format_dirs < <(existing app tests migrations bench)
mapfile -t lint_dirs < <(existing app tests migrations)

step "$PYTHON" -m ruff format --check "${format_dirs[@]}"
step "$PYTHON" -m ruff check "${lint_dirs[@]}"
step "$PYTHON" -m mypy app

echo "-- $PYTHON -m pytest $*"
status=0
"$PYTHON" -m pytest "$@" || status=$?
if [[ $status -eq 5 ]]; then
    echo "error: pytest collected no tests" >&2
fi
exit "$status"
