"""`python -m bitchange run --port N` as a developer starts it (no --host, no PUBLIC_URL): the
server is reachable from this machine only, and the emails' links point at port N."""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bitchange.config import PROJECT_ROOT
from bitchange.demo import DEMO_PASSWORD, DEMO_SECOND_ADMIN_TOTP_SECRET
from tests.e2e.conftest import RunningApp, free_port, log_in, stop_app, wait_until_serving

LISTEN = "0A"  # the TCP state in /proc/net/tcp


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the TCP sockets listening on `port`, read from the kernel."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state == LISTEN and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)  # 32-bit words in host (little-endian) order
                found.add(str(ipaddress.ip_address(
                    b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4)))))
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningApp, int]]:
    tmp = tmp_path_factory.mktemp("run")
    port = free_port()
    data_dir = tmp / "data"
    data_dir.mkdir()
    env = {name: value for name, value in os.environ.items() if name != "PUBLIC_URL"} | {
        "BITCHANGE_ENV": "development",
        "DEMO_LIQUIDITY": "0",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "SMTP_HOST": "",  # development without SMTP: the mail waits in /admin/outbox
        # Its own build: a Reflex build bakes in its port, and the session's app keeps its own.
        "REFLEX_WEB_WORKDIR": os.environ.get("BITCHANGE_E2E_WEBDIR", ".web-e2e") + "-run",
        "REFLEX_STATES_WORKDIR": str(tmp / "states"),
    }
    log = tmp / "app.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bitchange", "run", "--port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    app = RunningApp(f"http://localhost:{port}", f"sqlite:///{data_dir / 'bitchange.db'}",
                     data_dir, log, env)
    try:
        wait_until_serving(app.url, process, log)
        yield app, port
    finally:
        stop_app(process)


def test_run_listens_on_localhost_only(demo):
    _, port = demo
    assert listening_addresses(port) == {"127.0.0.1"}


def test_run_email_links_use_the_port_it_was_started_on(demo, page: Page, new_context):
    app, port = demo
    page.goto(app.url + "/signup")
    page.fill("#signup-email", "carol@example.org")
    page.fill("#signup-password", "a long enough passphrase")
    page.fill("#signup-confirm", "a long enough passphrase")
    page.click("#signup-submit")
    expect(page.locator("#signup-done")).to_contain_text("Check your inbox")

    # The second demo admin reads the mail in the outbox (development shows the bodies).
    admin = new_context().new_page()
    log_in(admin, app, "admin2@demo.bitchange.local", DEMO_PASSWORD,
           next_path="/admin/outbox", totp_secret=DEMO_SECOND_ADMIN_TOTP_SECRET)
    message = admin.locator(".outbox-row", has_text="carol@example.org").filter(
        has_text="Confirm your email")
    expect(message).to_contain_text(f"http://localhost:{port}/verify-email?token=")
    link = re.search(r"http://\S+/verify-email\?token=\S+", message.inner_text())
    assert link is not None
    page.goto(link.group(0))
    expect(page.locator("#verify-ok")).to_be_visible()
