#!/bin/sh
# Container entry point.
#   no arguments: apply the migrations (unless FUPIN_MIGRATE=0), then serve on 0.0.0.0:8000
#   arguments:    run them instead, e.g. `docker compose run --rm api fupin users create ...`
set -eu

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

if [ "${FUPIN_MIGRATE:-1}" != "0" ]; then
    fupin db upgrade
fi
exec fupin serve --host 0.0.0.0 --port 8000 --workers "${FUPIN_WORKERS:-2}"
