"""The deploy files: Caddy accepts the Caddyfile and it says what we need; the compose file has
the services, volumes, healthcheck and restart policies and no secrets; the shell scripts parse."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bitchange.config import PROJECT_ROOT, Settings

CADDYFILE = PROJECT_ROOT / "Caddyfile"
COMPOSE = PROJECT_ROOT / "docker-compose.prod.yml"
SECRET_NAMES = re.compile(r"(SECRET|PASSWORD|ACCESS_KEY|ENCRYPTION_KEY|TOKEN)", re.I)


def _caddy(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    if not shutil.which("caddy"):
        pytest.fail("caddy is not installed (Debian package `caddy`)")
    return subprocess.run(["caddy", *args, "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=60, check=False)


def test_caddy_validates_the_caddyfile():
    done = _caddy("validate", DOMAIN="exchange.example.com", ACME_EMAIL="ops@example.com")
    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


def test_the_caddyfile_site():
    done = _caddy("adapt", DOMAIN="exchange.example.com", MAX_BODY_SIZE="20MB")
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    server = next(iter(config["apps"]["http"]["servers"].values()))
    text = json.dumps(server)
    assert server["listen"] == [":443"]  # automatic HTTPS (and the :80 redirect)
    assert '"host": ["exchange.example.com"]' in text
    for header in ("Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options",
                   "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy"):
        assert header in text
    csp = re.search(r'"Content-Security-Policy": \["([^"]+)"\]', text).group(1)
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "connect-src 'self' wss://{http.request.host}" in csp
    assert '"max_size": 20000000' in text  # request body limit
    assert '"encodings": {"gzip"' in text or '"zstd"' in text
    assert '"/_event*"' in text and '"flush_interval": -1' in text  # the WebSocket route
    assert '"dial": "app:3000"' in text
    assert "logs" in server  # access logs on
    encoders = [log.get("encoder", {}).get("format") for log in config["logging"]["logs"].values()]
    assert "json" in encoders


def test_compose_file():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"app", "caddy"}
    app, caddy = services["app"], services["caddy"]

    assert app["build"]["dockerfile"] == "Dockerfile"
    assert [e["path"] for e in app["env_file"]] == ["deploy/.env.production"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in app["volumes"]}
    assert mounts == {"/data": "./data", "/backups": "./backups", "/uploads": "./uploads"}
    assert app["environment"]["DATA_DIR"] == "/data"
    assert app["environment"]["BACKUP_DIR"] == "/backups"
    assert "ports" not in app  # only Caddy is exposed
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    assert caddy["depends_on"]["app"]["condition"] == "service_healthy"
    assert sorted(caddy["ports"]) == ["443:443", "443:443/udp", "80:80"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert {"caddy_data", "caddy_config"} <= set(compose["volumes"])
    for service in services.values():
        assert service["restart"] == "unless-stopped"

    # No secrets in the compose file: only names that are not secrets, and no literal values.
    assert "env_file" not in caddy  # the proxy never sees the app's secrets
    for service in services.values():
        for name, value in (service.get("environment") or {}).items():
            assert not SECRET_NAMES.search(name), name
            assert "change-me" not in str(value)


def test_dockerfile():
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM .+ AS (\w+)", text, re.M)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    assert "python -m bitchange build" in text.split("AS runtime", 1)[0]  # compiled at build
    assert re.search(r"^USER bitchange$", runtime, re.M)
    assert "HEALTHCHECK" in runtime and "/healthz" in runtime
    assert 'VOLUME ["/data", "/backups", "/uploads"]' in runtime
    assert 'CMD ["python", "-m", "bitchange", "serve"]' in runtime
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".env", "deploy/.env.production", ".git", ".venv", "data/", "backups/"} <= set(
        ignored)


def test_shell_scripts_parse_and_are_executable():
    for name in ("provision.sh", "backup_db.sh"):
        path = PROJECT_ROOT / "deploy" / name
        assert os.access(path, os.X_OK), name
        done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr
    provision = (PROJECT_ROOT / "deploy" / "provision.sh").read_text()
    for needle in ("docker-compose-plugin", "ufw allow 22/tcp", "ufw allow 80/tcp",
                   "ufw allow 443/tcp", "ufw default deny incoming", "unattended-upgrades",
                   "/srv/exchange", "backup_db.sh", "usermod -aG docker"):
        assert needle in provision, needle


@pytest.mark.parametrize("example", [".env.example", "deploy/.env.production.example"])
def test_env_examples_document_every_operations_setting(example):
    text = (PROJECT_ROOT / example).read_text()
    for name in ("BACKUP_SCHEDULE", "BACKUP_KEEP_DAILY", "BACKUP_KEEP_WEEKLY",
                 "BACKUP_STALE_HOURS", "SCHEDULER_ENABLED", "SCHEDULER_LEASE_SECONDS",
                 "OUTBOX_INTERVAL_SECONDS", "RECONCILE_SCHEDULE", "CLEANUP_SCHEDULE",
                 "PROOF_SNAPSHOT_SCHEDULE", "BACKEND_CPU_PINNING",
                 "ALERT_EMAILS", "LOG_FORMAT", "S3_ENDPOINT_URL", "BACKUP_ENCRYPTION_KEY"):
        assert re.search(rf"^#? ?{name}=", text, re.M), f"{name} missing from {example}"
    values = dict(line.split("=", 1) for line in text.splitlines()
                  if line and not line.startswith("#"))
    Settings(_env_file=None, **{k: v for k, v in values.items() if v})  # they parse


def test_real_production_env_is_git_ignored():
    ignored = subprocess.run(["git", "check-ignore", "deploy/.env.production", ".env"],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    assert ignored.stdout.split() == ["deploy/.env.production", ".env"]
    assert Path(PROJECT_ROOT / "deploy" / ".env.production.example").exists()
