#!/usr/bin/env bash
# Back up the BitChange database and the private documents (KYC files, ticket attachments in
# DATA_DIR/private) now: the same code as the in-app schedule (online copy, integrity check,
# compression, encryption, upload to S3, retention, a recorded run, an email to the admins on
# failure).
#
# For operators who prefer host cron to the in-app schedule (then set BACKUP_SCHEDULE=off):
#   0 3 * * * /srv/exchange/deploy/backup_db.sh >> /var/log/bitchange-backup.log 2>&1
#
# By default it runs inside the running `app` container of docker-compose.prod.yml. Outside
# Docker, set BITCHANGE_PYTHON to the interpreter of the app's virtualenv. An optional first
# argument overrides the local backups folder (BACKUP_DIR).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK="${BITCHANGE_BACKUP_LOCK:-/tmp/bitchange-backup.lock}"

exec 9>"$LOCK"
if ! flock -n 9; then
    echo "$(date -u +%FT%TZ) another backup is still running; skipping" >&2
    exit 0
fi

if [ -n "${1:-}" ]; then
    export BACKUP_DIR="$1"
fi

if [ -n "${BITCHANGE_PYTHON:-}" ]; then
    cd "$ROOT"
    exec "$BITCHANGE_PYTHON" -m bitchange backup --trigger cron
fi

if [ -n "${1:-}" ]; then
    echo "note: inside Docker the backups folder is ./backups (the /backups mount); ignoring $1" >&2
fi
exec docker compose --project-directory "$ROOT" -f "$ROOT/docker-compose.prod.yml" \
    exec -T app python -m bitchange backup --trigger cron
