"""The production path end to end: the frontend compiled by `bitchange build`, served by
`bitchange serve` (the container's command), behind the real Caddy with the repository's
Caddyfile on https://localhost:443 (certificates from Caddy's internal CA), driven by Chromium."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from bitchange.config import PROJECT_ROOT
from bitchange.demo import DEMO_PASSWORD
from tests.e2e.conftest import BUILD_TIMEOUT, ConsoleWatch, free_port

BASE = "https://localhost"
_TLS = ssl.create_default_context()
_TLS.check_hostname = False
_TLS.verify_mode = ssl.CERT_NONE  # Caddy's internal CA is not in the system trust store


@dataclass
class Proxied:
    url: str
    app_port: int
    caddy_log: Path


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - https only
    try:
        with urllib.request.urlopen(request, timeout=10, context=_TLS) as r:  # noqa: S310
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def _wait(check, what: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text()[-4000:]}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)  # polling a starting server
    raise RuntimeError(f"{what} did not start in {timeout}s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="session")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    if not shutil.which("caddy"):
        pytest.fail("caddy is not installed (Debian package `caddy`)")
    if not _port_free(443) or not _port_free(80):
        pytest.fail("ports 80/443 are taken: the Caddy test needs them (https drops the port)")
    tmp = tmp_path_factory.mktemp("caddy")
    port = free_port()
    env = {
        **os.environ, "BITCHANGE_ENV": "test", "DATA_DIR": str(tmp / "data"),
        "DATABASE_URL": f"sqlite:///{tmp / 'data' / 'bitchange.db'}",
        "PUBLIC_URL": BASE, "SMTP_HOST": "",
        # Backups configured, so that the dashboard shows the missing one as overdue.
        "BACKUP_DIR": str(tmp / "backups"),
        # Its own build directory: this build bakes in https://localhost, and must not replace
        # the frontend of the app the other browser tests are using.
        "REFLEX_WEB_WORKDIR": os.environ.get("BITCHANGE_E2E_WEBDIR", ".web-e2e") + "-caddy",
        "REFLEX_STATES_WORKDIR": str(tmp / "states"),
    }
    app_log = tmp / "app.log"
    for command in (["build"], ["seed-demo"]):
        done = subprocess.run([sys.executable, "-m", "bitchange", *command], cwd=PROJECT_ROOT,
                              env=env, stdout=app_log.open("a"), stderr=subprocess.STDOUT,
                              timeout=BUILD_TIMEOUT, check=False)
        assert done.returncode == 0, app_log.read_text()[-4000:]
    app = subprocess.Popen(
        [sys.executable, "-m", "bitchange", "serve", "--port", str(port), "--host", "127.0.0.1"],
        cwd=PROJECT_ROOT, env=env, stdout=app_log.open("a"), stderr=subprocess.STDOUT,
        start_new_session=True)
    caddy_log = tmp / "caddy.log"
    caddy_env = {**os.environ, "DOMAIN": "localhost", "CADDY_LOCAL_CERTS": "local_certs",
                 "APP_UPSTREAM": f"127.0.0.1:{port}", "CADDY_ADMIN": f"localhost:{free_port()}",
                 "MAX_BODY_SIZE": "1MB", "XDG_DATA_HOME": str(tmp / "caddy-data"),
                 "XDG_CONFIG_HOME": str(tmp / "caddy-config"), "HOME": str(tmp)}
    caddy = subprocess.Popen(
        ["caddy", "run", "--config", str(PROJECT_ROOT / "Caddyfile"), "--adapter", "caddyfile"],
        env=caddy_env, stdout=caddy_log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        _wait(lambda: urllib.request.urlopen(
            f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200,
            "the app", app, app_log, 120)
        _wait(lambda: _get(BASE + "/healthz")[0] == 200, "caddy", caddy, caddy_log, 60)
        yield Proxied(BASE, port, caddy_log)
    finally:
        _stop(caddy)
        _stop(app)


def test_caddy_serves_https_with_security_headers_compression_and_limits(proxied):
    status, headers, body = _get(proxied.url + "/", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["strict-transport-security"].startswith("max-age=")
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "server" not in headers
    assert headers.get("content-encoding") == "gzip"
    assert b"<html" in gzip.decompress(body).lower()

    status, _, body = _get(proxied.url + "/healthz")
    assert status == 200 and b'"database":"ok"' in body

    # Plain HTTP is redirected to HTTPS.
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener = urllib.request.build_opener(_NoRedirect)
        opener.open("http://localhost/markets", timeout=10)
    assert redirect.value.code in (301, 308)
    assert redirect.value.headers["Location"].startswith("https://localhost/")

    # (The request body limit is checked on the adapted config: tests/deploy/test_caddyfile.py.)
    # Access logs are JSON lines.
    assert re.search(r'"uri":\s*"/healthz"', proxied.caddy_log.read_text())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def test_login_through_the_proxy_over_the_websocket_with_csp(proxied, browser: Browser,
                                                              console: ConsoleWatch):
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1300,
                                                                      "height": 900})
    try:
        page = console.attach(context.new_page())
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text else None)
        response = page.goto(proxied.url + "/login")
        assert response is not None and "content-security-policy" in response.headers
        page.fill("#login-email", "alice@demo.bitchange.local")
        page.fill("#login-password", DEMO_PASSWORD)
        page.click("#login-submit")
        expect(page.locator("#nav-email")).to_have_text("alice@demo.bitchange.local")
        assert any(url.startswith("wss://localhost/_event") for url in sockets), sockets
        cookies = {c["name"]: c for c in context.cookies()}
        session = cookies["__Host-bc_session"]
        assert session["httpOnly"] and session["secure"]
        assert violations == []
        assert console.errors == []
    finally:
        context.close()


def test_admin_dashboard_shows_backups_and_jobs_through_the_proxy(proxied, browser: Browser,
                                                                   console: ConsoleWatch):
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = console.attach(context.new_page())
        page.goto(proxied.url + "/login?next=/admin")
        page.fill("#login-email", "admin@demo.bitchange.local")
        page.fill("#login-password", DEMO_PASSWORD)
        page.click("#login-submit")
        code = page.locator("#login-code")
        page.wait_for_selector("#login-code, #backup-status")
        if code.count():  # the demo admin has 2FA
            import pyotp

            from bitchange import demo

            code.fill(pyotp.TOTP(demo.DEMO_ADMIN_TOTP_SECRET).now())
            page.click("#login-code-submit")
        # No backup has run on this fresh database: the dashboard says so, in red.
        expect(page.locator("#backup-status")).to_have_text("Backup overdue")
        expect(page.locator("#backup-age")).to_contain_text("never")
        expect(page.locator("#scheduler-status")).to_contain_text("(alive)")
        # The scheduler's outbox job has run by now (every 30 s, aligned to the minute).
        page.click("#operations-refresh")
        expect(page.locator("#jobs-table")).to_be_visible()
        assert console.errors == []
    finally:
        context.close()
