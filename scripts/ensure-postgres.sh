#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432 (starting the local cluster if needed), then
# (re)create an empty database, by default fupin_test:
#
#   bash scripts/ensure-postgres.sh [DATABASE]
set -euo pipefail

HOST=127.0.0.1
PORT=5432
DATABASE="${1:-fupin_test}"
WAIT_SECONDS=60

if [[ ! "$DATABASE" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    echo "error: database name '$DATABASE' must be letters, digits and underscores" >&2
    exit 2
fi
for tool in pg_isready psql; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool not found: install the PostgreSQL client tools" >&2
        exit 1
    fi
done

if ! pg_isready -q -h "$HOST" -p "$PORT"; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [[ -d /etc/postgresql ]]; then
        for version in $(ls /etc/postgresql); do
            echo "PostgreSQL is not answering on $HOST:$PORT: starting cluster $version/main"
            pg_ctlcluster --skip-systemctl-redirect "$version" main start \
                || echo "warning: pg_ctlcluster $version main start failed" >&2
        done
    else
        echo "PostgreSQL is not answering on $HOST:$PORT and pg_ctlcluster is not available: waiting"
    fi
    for ((waited = 0; waited < WAIT_SECONDS; waited++)); do
        pg_isready -q -h "$HOST" -p "$PORT" && break
        sleep 1
    done
fi
if ! pg_isready -q -h "$HOST" -p "$PORT"; then
    echo "error: PostgreSQL cannot be reached on $HOST:$PORT (waited ${WAIT_SECONDS}s)" >&2
    exit 1
fi

run_sql() {
    PGOPTIONS="-c client_min_messages=warning" psql -h "$HOST" -p "$PORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 -c "$1"
}
if ! run_sql "DROP DATABASE IF EXISTS \"$DATABASE\" WITH (FORCE)" \
    || ! run_sql "CREATE DATABASE \"$DATABASE\""; then
    echo "error: could not (re)create database $DATABASE on $HOST:$PORT as user postgres" >&2
    exit 1
fi
echo "PostgreSQL ready on $HOST:$PORT, empty database $DATABASE"
