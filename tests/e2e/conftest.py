"""Browser tests: the real app (production build, one port) on a fresh database, driven by
Playwright in Debian's Chromium.

Run them in their own pytest invocation (`pytest tests/e2e`): pytest-playwright's event loop
clashes with pytest-asyncio. Each test session builds into its own web directory
(`BITCHANGE_E2E_WEBDIR`, default `.web-e2e`), because a Reflex build bakes in its port.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from bitchange.config import PROJECT_ROOT
from tests.mailbox import SmtpServer, running_smtp_server
from tests.nodes import free_port

CHROMIUM = os.environ.get("BITCHANGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]
BUILD_TIMEOUT = 900  # seconds: a cold build installs the frontend's npm packages


@dataclass
class RunningApp:
    url: str
    database_url: str
    data_dir: Path
    log: Path
    env: dict[str, str] = field(default_factory=dict)


def wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + BUILD_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The app exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    with urllib.request.urlopen(url + "/", timeout=5) as page:  # noqa: S310
                        if page.status == 200:
                            return
        except OSError:
            pass
        time.sleep(0.5)  # polling a starting server, not synchronising test steps
    raise RuntimeError(f"The app did not start in {BUILD_TIMEOUT}s:\n{log.read_text()[-4000:]}")


def start_app(
    tmp: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, RunningApp]:
    port = free_port()
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{data_dir / 'bitchange.db'}"
    env = {
        **os.environ,
        "BITCHANGE_ENV": "test",
        "DEMO_LIQUIDITY": "0",  # tests start from empty books
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "PUBLIC_URL": f"http://localhost:{port}",
        "REFLEX_WEB_WORKDIR": os.environ.get("BITCHANGE_E2E_WEBDIR", ".web-e2e"),
        "REFLEX_STATES_WORKDIR": str(tmp / "states"),
        **(extra_env or {}),
    }
    log = tmp / "app.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bitchange", "run", "--port", str(port), "--host", "127.0.0.1"],
        cwd=PROJECT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    app = RunningApp(f"http://localhost:{port}", database_url, data_dir, log, env)
    try:
        wait_until_serving(app.url, process, log)
    except Exception:
        stop_app(process)
        raise
    return process, app


def stop_app(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[SmtpServer]:
    """The real SMTP server (aiosmtpd) the app under test sends its email to."""
    with running_smtp_server() as server:
        yield server


def smtp_env(server: SmtpServer) -> dict[str, str]:
    return {"SMTP_HOST": server.host, "SMTP_PORT": str(server.port), "SMTP_TLS": "none",
            "SMTP_USER": "", "OUTBOX_INTERVAL_SECONDS": "1"}


# The wallet journey (test_wallet.py): deposit keys (the public BIP test vectors), and no
# address hold or post-2FA lock, since the journey turns 2FA on and adds an address minutes
# before withdrawing. The rules themselves are tested with a controlled clock in tests/wallet.
WALLET_ENV = {
    "DEPOSIT_XPUB_BTC": "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSd"
                        "VCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs",
    "DEPOSIT_XPUB_USDT": "xpub6DCoCpSuQZB2k9PnGSMK9tinTK8kx3hcv7F4BWwhs5N2wnwGiLg17r9J7j2JcYP9gk"
                         "ip3sC87J1F99YxeBHGuFMg6ejA8qQEKSuzzaKvqBR",
    "WITHDRAWAL_ADDRESS_HOLD_HOURS": "0",
    "WITHDRAWAL_SECURITY_LOCK_HOURS": "0",
}


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, mailbox: SmtpServer) -> Iterator[RunningApp]:
    process, running = start_app(tmp_path_factory.mktemp("app"),
                                 {**smtp_env(mailbox), **WALLET_ENV})
    yield running
    stop_app(process)


@pytest.fixture(scope="module")
def own_app(tmp_path_factory: pytest.TempPathFactory, mailbox: SmtpServer) -> Iterator[RunningApp]:
    """An app of the module's own (its own database and build): for journeys whose orders
    would otherwise rest in the shared app's books and move other journeys' prices."""
    webdir = os.environ.get("BITCHANGE_E2E_WEBDIR", ".web-e2e") + "-own"
    process, running = start_app(tmp_path_factory.mktemp("own-app"),
                                 {**smtp_env(mailbox), **WALLET_ENV, "REFLEX_WEB_WORKDIR": webdir})
    yield running
    stop_app(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; the README's test command installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ConsoleWatch:
    """Collects browser console errors and uncaught page errors of one or more pages."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def attach(self, page: Page) -> Page:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        return page

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} @ {message.location.get('url', '')}")


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
def new_context(browser: Browser, console: ConsoleWatch) -> Iterator:
    """Factory of isolated browser contexts (separate cookies), e.g. two traders at once."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        context.on("page", console.attach)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:  # type: ignore[no-untyped-def]
    return new_context().new_page()


_last_totp_step: dict[str, int] = {}


def totp_code(secret: str) -> str:
    """A TOTP code the app has not seen yet: it refuses a replayed step, and accepts one step
    ahead, so consecutive logins in one 30-second window use the next step's code."""
    otp = pyotp.TOTP(secret)
    step = max(otp.timecode(datetime.now(UTC)), _last_totp_step.get(secret, -1) + 1)
    while step > otp.timecode(datetime.now(UTC)) + 1:  # waiting for the clock, not the app
        time.sleep(1)
    _last_totp_step[secret] = step
    return otp.generate_otp(step)


def log_in(page: Page, app: RunningApp, email: str, password: str, next_path: str = "",
           *, totp_secret: str = "", recovery_code: str = "") -> None:
    page.goto(app.url + "/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-submit")
    if totp_secret or recovery_code:
        page.wait_for_selector("#login-code")
        page.fill("#login-code", recovery_code or totp_code(totp_secret))
        page.click("#login-code-submit")
    signed_in(page)


def _after_auth(url: str) -> bool:
    path = urlsplit(url).path
    return path != "/login" and not path.startswith("/auth/")


def signed_in(page: Page) -> None:
    """Let a sign-in land: it ends in a full navigation (/auth/session -> the next page),
    which would interrupt the test's next `goto` if that started first."""
    page.wait_for_url(_after_auth)
    expect(page.locator("#nav-email")).to_be_visible()


def log_out(page: Page) -> None:
    """Log out and let its full navigation (/auth/logout -> /) land: the menu shows "Log in"
    as soon as the state changes, before the browser has left the page (which may be / too)."""
    with page.expect_navigation(url=re.compile(r"^https?://[^/]+/$")):
        page.click("#logout")
    expect(page.locator("#nav-login")).to_be_visible()
