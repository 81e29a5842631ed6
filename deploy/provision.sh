#!/usr/bin/env bash
# Prepare a fresh Ubuntu 22.04 VPS for BitChange. Run once, as root:
#   curl -fsSL https://raw.githubusercontent.com/<you>/bitchange/main/deploy/provision.sh | bash
#   (or: scp deploy/provision.sh root@VPS: && ssh root@VPS bash provision.sh)
# Installs Docker and the compose plugin, creates the non-root `deploy` user, opens only ports
# 22, 80 and 443, turns on unattended security upgrades, creates /srv/exchange, and (unless
# BACKUP_VIA_CRON=0) installs the daily 03:00 UTC backup cron entry.
set -euo pipefail

DEPLOY_USER="${DEPLOY_USER:-deploy}"
APP_ROOT="${APP_ROOT:-/srv/exchange}"
APP_UID=10001   # the container's user (Dockerfile); it owns data, backups and uploads
REPO_URL="${REPO_URL:-}"
BACKUP_VIA_CRON="${BACKUP_VIA_CRON:-0}"  # 1: host cron instead of the in-app schedule

if [ "$(id -u)" -ne 0 ]; then echo "run as root" >&2; exit 1; fi
. /etc/os-release
if [ "${ID:-}" != "ubuntu" ]; then echo "warning: written for Ubuntu 22.04, found ${PRETTY_NAME:-?}" >&2; fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get -y upgrade
apt-get install -y ca-certificates curl gnupg git ufw unattended-upgrades sqlite3 fail2ban

# --- Docker Engine and the compose plugin, from Docker's apt repository --------------------
install -m 0755 -d /etc/apt/keyrings
if [ ! -f /etc/apt/keyrings/docker.gpg ]; then
    curl -fsSL https://download.docker.com/linux/ubuntu/gpg | gpg --dearmor -o /etc/apt/keyrings/docker.gpg
    chmod a+r /etc/apt/keyrings/docker.gpg
fi
echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.gpg] https://download.docker.com/linux/ubuntu ${VERSION_CODENAME} stable" \
    > /etc/apt/sources.list.d/docker.list
apt-get update
apt-get install -y docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
systemctl enable --now docker

# --- the deploy user: SSH keys from root, docker group, no password login --------------------
if ! id "$DEPLOY_USER" >/dev/null 2>&1; then
    adduser --disabled-password --gecos "" "$DEPLOY_USER"
fi
usermod -aG docker "$DEPLOY_USER"
install -d -m 0700 -o "$DEPLOY_USER" -g "$DEPLOY_USER" "/home/$DEPLOY_USER/.ssh"
if [ -f /root/.ssh/authorized_keys ] && [ ! -f "/home/$DEPLOY_USER/.ssh/authorized_keys" ]; then
    install -m 0600 -o "$DEPLOY_USER" -g "$DEPLOY_USER" /root/.ssh/authorized_keys \
        "/home/$DEPLOY_USER/.ssh/authorized_keys"
fi
sed -i -E 's/^#?PasswordAuthentication .*/PasswordAuthentication no/; s/^#?PermitRootLogin .*/PermitRootLogin prohibit-password/' \
    /etc/ssh/sshd_config
systemctl reload ssh || systemctl reload sshd || true

# --- firewall: SSH, HTTP, HTTPS only ---------------------------------------------------------
ufw default deny incoming
ufw default allow outgoing
ufw allow 22/tcp
ufw allow 80/tcp
ufw allow 443/tcp
ufw allow 443/udp   # HTTP/3
ufw --force enable

# --- unattended security upgrades ------------------------------------------------------------
cat > /etc/apt/apt.conf.d/20auto-upgrades <<'CONF'
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
APT::Periodic::AutocleanInterval "7";
CONF
systemctl enable --now unattended-upgrades

# --- /srv/exchange: the repository, data, backups, uploads ----------------------------------
install -d -m 0755 -o "$DEPLOY_USER" -g "$DEPLOY_USER" "$APP_ROOT"
if [ -n "$REPO_URL" ] && [ ! -d "$APP_ROOT/.git" ]; then
    sudo -u "$DEPLOY_USER" git clone "$REPO_URL" "$APP_ROOT"
fi
for dir in data backups uploads; do
    install -d -m 0750 -o "$APP_UID" -g "$APP_UID" "$APP_ROOT/$dir"
done

# --- the backup schedule -------------------------------------------------------------------
# The app runs its own scheduler (BACKUP_SCHEDULE, daily 03:00 UTC). Operators who prefer host
# cron set BACKUP_VIA_CRON=1 here and BACKUP_SCHEDULE=off in deploy/.env.production.
if [ "$BACKUP_VIA_CRON" = "1" ]; then
    cat > /etc/cron.d/bitchange-backup <<CRON
CRON_TZ=UTC
0 3 * * * $DEPLOY_USER $APP_ROOT/deploy/backup_db.sh >> /var/log/bitchange-backup.log 2>&1
CRON
    touch /var/log/bitchange-backup.log && chown "$DEPLOY_USER" /var/log/bitchange-backup.log
fi

echo "Provisioned. Next: as $DEPLOY_USER, follow docs/deploy.md from step 5."
