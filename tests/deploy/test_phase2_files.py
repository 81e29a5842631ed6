"""Phase 2's deploy files: Caddy accepts deploy/Caddyfile.phase2 and it load-balances the app
nodes with active health checks and sticky cookies while serving the compiled frontend as files;
the compose file has PostgreSQL, Redis, two backend-only nodes behind it, migrations before the
nodes, the frontend exported once, and no secrets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from bitchange.config import PROJECT_ROOT

CADDYFILE = PROJECT_ROOT / "deploy" / "Caddyfile.phase2"
COMPOSE = PROJECT_ROOT / "deploy" / "docker-compose.phase2.yml"


def _caddy(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    if not shutil.which("caddy"):
        pytest.fail("caddy is not installed (Debian package `caddy`)")
    return subprocess.run(["caddy", *args, "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=60, check=False)


def _handlers(node: object) -> list[dict]:
    """Every handler object in the adapted JSON, depth first."""
    found = []
    if isinstance(node, dict):
        if "handler" in node:
            found.append(node)
        for value in node.values():
            found.extend(_handlers(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_handlers(value))
    return found


def test_caddy_validates_the_phase2_caddyfile():
    done = _caddy("validate", SITE_ADDRESS="exchange.example.com", ACME_EMAIL="ops@example.com")
    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


def test_the_proxy_balances_the_nodes_and_serves_the_frontend():
    done = _caddy("adapt", SITE_ADDRESS="exchange.example.com",
                  APP_UPSTREAMS="10.0.0.1:3000 10.0.0.2:3000 10.0.0.3:3000")
    assert done.returncode == 0, done.stderr
    server = next(iter(json.loads(done.stdout)["apps"]["http"]["servers"].values()))
    assert server["listen"] == [":443"]
    handlers = _handlers(server)
    [proxy] = [h for h in handlers if h["handler"] == "reverse_proxy"]
    assert [u["dial"] for u in proxy["upstreams"]] == ["10.0.0.1:3000", "10.0.0.2:3000",
                                                        "10.0.0.3:3000"]
    assert proxy["load_balancing"]["selection_policy"] == {"policy": "cookie",
                                                           "name": "bc_node"}
    assert proxy["load_balancing"]["try_duration"] > 0  # a dead node's requests go elsewhere
    active = proxy["health_checks"]["active"]
    assert active["uri"] == "/healthz" and active["expect_status"] == 200
    assert proxy["flush_interval"] == -1

    text = json.dumps(server)
    for path in ("/_event*", "/_upload*", "/healthz", "/auth/*", "/api/*", "/sapi/*", "/ws/*",
                 "/ws-api/*", "/documents/*"):
        assert f'"{path}"' in text, f"{path} does not reach the nodes"
    [files] = [h for h in handlers if h["handler"] == "file_server"]
    assert "gzip" in files["precompressed"]
    assert {"handler": "vars", "root": "/srv/frontend"} in handlers
    assert "/404.html" in text  # routes with parameters fall back to the app's router page
    assert "Content-Security-Policy" in text and "Strict-Transport-Security" in text
    assert '"max_size": 20000000' in text


def test_phase2_compose_file():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "frontend", "app1", "app2",
                             "caddy"}
    nodes = [name for name, s in services.items() if "--backend-only" in s.get("command", [])]
    assert nodes == ["app1", "app2"]
    for name in nodes:
        node = services[name]
        assert node["environment"]["DATABASE_URL"].startswith("postgresql+psycopg2://")
        assert node["environment"]["REFLEX_REDIS_URL"].startswith("redis://redis:")
        assert node["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "/healthz" in " ".join(node["healthcheck"]["test"])
        assert "ports" not in node  # only Caddy is exposed
        assert "../data:/data" in node["volumes"]  # every node sees the same documents
    assert services["migrate"]["command"] == ["python", "-m", "bitchange", "migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"

    caddy = services["caddy"]
    assert caddy["environment"]["APP_UPSTREAMS"].split() == [f"{n}:3000" for n in nodes]
    assert "./Caddyfile.phase2:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert "frontend:/srv/frontend:ro" in caddy["volumes"]
    assert services["frontend"]["volumes"] == ["frontend:/srv/frontend"]
    assert "/app/.web/build/client/." in " ".join(services["frontend"]["command"])
    assert caddy["depends_on"]["frontend"]["condition"] == "service_completed_successfully"
    assert all(caddy["depends_on"][n]["condition"] == "service_healthy" for n in nodes)

    # Secrets come from the env file, never from this file.
    raw = COMPOSE.read_text()
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in raw
    assert ":${POSTGRES_PASSWORD:?" in services["app1"]["environment"]["DATABASE_URL"]
