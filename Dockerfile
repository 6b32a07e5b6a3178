# syntax=docker/dockerfile:1
# Fupin API image: `docker build -t fupin .`, then
#   docker run -p 8000:8000 -v fupin-data:/srv/fupin/data fupin                       (embedded SQLite)
#   docker run -p 8000:8000 -e FUPIN_DATABASE_URL=postgresql+asyncpg://... -e FUPIN_JWT_SECRET=... fupin
# The entry point applies the migrations (FUPIN_MIGRATE=0 skips that) and serves with FUPIN_WORKERS workers.

ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: the project and its dependencies in /opt/venv ---------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install --upgrade pip

WORKDIR /build

# Dependencies first, from pyproject.toml alone, so that code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip install -r requirements.txt

# The project itself, as a wheel (not editable): the wheel carries the migrations as app/_migrations.
COPY README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-deps . \
    && pip check \
    && python -c "from app.db.migrate import migrations_path; print('migrations:', migrations_path())"

# ---- runtime ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FUPIN_DATABASE_URL=sqlite+aiosqlite:////srv/fupin/data/fupin.db \
    FUPIN_WORKERS=2

RUN groupadd --system --gid 10001 fupin \
    && useradd --system --uid 10001 --gid fupin --home-dir /srv/fupin --shell /usr/sbin/nologin fupin \
    && mkdir -p /srv/fupin/data \
    && chown -R fupin:fupin /srv/fupin

COPY --from=builder /opt/venv /opt/venv
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/fupin-entrypoint

WORKDIR /srv/fupin
USER fupin:fupin
# The SQLite database (and the JWT secret generated beside it when FUPIN_JWT_SECRET is unset) live here.
VOLUME ["/srv/fupin/data"]

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["/usr/local/bin/fupin-entrypoint"]
