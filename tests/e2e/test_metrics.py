"""A real Prometheus server scrapes the running app (two backend workers sharing Redis, so the
workers' values are added up through PROMETHEUS_MULTIPROC_DIR) and its query API returns every
series the exchange exports: orders placed and traded through the API, logins through the
browser (one refused by the rate limit, with its message on the screen and on the admin's
"Rate limits" page, while another user logs in), a live trading screen, an API stream client,
the scheduled jobs (outbox, reconcile, backup each minute), HTTP requests, and the database
gauges."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import ccxt
import pytest
import redis
from playwright.sync_api import expect
from websockets.sync.client import connect

from bitchange.config import PROJECT_ROOT
from bitchange.demo import DEMO_API_KEYS, DEMO_PASSWORD
from tests.e2e.conftest import RunningApp, free_port, log_in, smtp_env, start_app, stop_app
from tests.e2e.extras_helpers import log_in_admin
from tests.e2e.test_api_ccxt import client

pytestmark = pytest.mark.e2e

REDIS_URL = os.environ.get("BITCHANGE_E2E_METRICS_REDIS_URL", "redis://127.0.0.1:6379/11")
DEADLINE = 240  # seconds: jobs scheduled each minute must have run, and been scraped
EXPECTED = [
    "bitchange_order_placement_seconds_bucket", "bitchange_order_placement_seconds_count",
    "bitchange_match_seconds_bucket", "bitchange_trades_total", "bitchange_open_orders",
    "bitchange_pending_withdrawals", "bitchange_ledger_reconcile_ok",
    "bitchange_ledger_reconcile_last_success_timestamp_seconds", "bitchange_outbox_backlog",
    "bitchange_outbox_failed", "bitchange_backup_age_seconds", "bitchange_job_runs_total",
    "bitchange_logins_total", "bitchange_live_screens", "bitchange_api_stream_clients",
    "bitchange_http_requests_total", "bitchange_rate_limited_total",
    "bitchange_scheduler_leader", "bitchange_disk_free_bytes",
]


@pytest.fixture(scope="module")
def metrics_app(tmp_path_factory: pytest.TempPathFactory, mailbox) -> Iterator[RunningApp]:  # type: ignore[no-untyped-def]
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()  # a database of its own: this app's states, counters and refusals
    tmp = tmp_path_factory.mktemp("metrics-app")
    webdir = os.environ.get("BITCHANGE_E2E_WEBDIR", ".web-e2e") + "-metrics"
    process, running = start_app(tmp, {
        **smtp_env(mailbox), "REFLEX_WEB_WORKDIR": webdir,
        "REFLEX_REDIS_URL": REDIS_URL, "GRANIAN_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus-multiproc"),
        "BACKUP_DIR": str(tmp / "backups"), "BACKUP_SCHEDULE": "* * * * *",
        "RECONCILE_SCHEDULE": "* * * * *", "RATE_LIMIT_LOGIN_ACCOUNT": "3/minute",
    })
    yield running
    stop_app(process)
    store.flushdb()
    store.close()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
        return json.loads(response.read())


@pytest.fixture(scope="module")
def prometheus(metrics_app: RunningApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed (Debian package `prometheus`)")
    tmp = tmp_path_factory.mktemp("prometheus")
    shutil.copy(PROJECT_ROOT / "deploy" / "monitoring" / "alerts.yml", tmp / "alerts.yml")
    target = urllib.parse.urlsplit(metrics_app.url).netloc.replace("localhost", "127.0.0.1")
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "rule_files: [alerts.yml]\n"
        "scrape_configs:\n"
        "  - job_name: bitchange\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n")
    port = free_port()
    log = (tmp / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary, f"--config.file={tmp / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=2):  # noqa: S310
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "prometheus.log").read_text()[-3000:]) from None
            time.sleep(0.2)  # polling a starting server
    yield url
    process.terminate()
    process.wait(timeout=30)
    log.close()


def query(prometheus: str, expression: str) -> list[dict]:
    answer = _get(prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def series_names(prometheus: str) -> set[str]:
    return {r["metric"]["__name__"] for r in query(prometheus, 'count by (__name__) '
                                                               '({__name__=~"bitchange_.+"})')}


def wait_for(check, what: str):  # type: ignore[no-untyped-def]
    """Poll Prometheus until `check()` is truthy (a deadline, not a fixed sleep)."""
    deadline = time.monotonic() + DEADLINE
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Prometheus never showed {what}")
        time.sleep(1)  # its scrape interval


def scalar(prometheus: str, expression: str) -> float:
    result = query(prometheus, expression)
    return float(result[0]["value"][1]) if result else 0.0


def test_prometheus_scrapes_every_exchange_series(metrics_app, prometheus, new_context,
                                                  console):
    app = metrics_app
    # Trading through the API (ccxt): a resting order, and a trade.
    alice = client(app, *DEMO_API_KEYS["alice@demo.bitchange.local"])
    bob = client(app, *DEMO_API_KEYS["bob@demo.bitchange.local"])
    alice.load_markets()
    bob.load_markets()
    bob.create_order("BTC/USDT", "limit", "sell", 0.01, 30000)
    alice.create_order("BTC/USDT", "limit", "buy", 0.004, 30000)
    with pytest.raises(ccxt.InsufficientFunds):
        alice.create_order("BTC/USDT", "limit", "buy", 100, 30000)

    # Logins through the browser: refused past RATE_LIMIT_LOGIN_ACCOUNT, the screen says so;
    # another user logs in meanwhile and watches a live trading screen.
    page = new_context().new_page()
    page.goto(app.url + "/login")
    for _ in range(3):
        page.fill("#login-email", "bob@demo.bitchange.local")
        page.fill("#login-password", "not bob's password")
        page.click("#login-submit")
        expect(page.locator("#login-error")).to_contain_text("Incorrect email or password")
        page.fill("#login-password", "")
    page.fill("#login-email", "bob@demo.bitchange.local")
    page.fill("#login-password", DEMO_PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text(
        "Too many login attempts; slow down and try again in")
    watcher = new_context().new_page()
    log_in(watcher, app, "alice@demo.bitchange.local", DEMO_PASSWORD)
    watcher.goto(app.url + "/trade/BTC-USDT")
    expect(watcher.locator("#market-symbol")).to_have_text("BTC-USDT")

    admin = new_context().new_page()
    log_in_admin(admin, app)
    admin.goto(app.url + "/admin/rate-limits")
    row = admin.locator(".rate-limit-row").filter(has_text="bob@demo.bitchange.local")
    expect(row).to_contain_text("login")
    expect(row).to_contain_text("3 per 1 minute")

    stream_url = app.url.replace("http://", "ws://") + "/ws/btcusdt@trade"
    with connect(stream_url):
        names = wait_for(lambda: (found := series_names(prometheus)) >= set(EXPECTED)
                         and found, "every exchange series")
        assert set(EXPECTED) <= names
        wait_for(lambda: scalar(prometheus, "bitchange_api_stream_clients") >= 1,
                 "the stream client")

    assert scalar(prometheus, 'up{job="bitchange"}') == 1
    wait_for(lambda: scalar(prometheus, "bitchange_live_screens") >= 1, "the live screen")
    assert scalar(prometheus, 'sum(bitchange_trades_total{market="BTC-USDT"})') == 1
    assert scalar(prometheus, 'sum(bitchange_order_placement_seconds_count'
                              '{market="BTC-USDT",outcome="rejected"})') == 1
    assert scalar(prometheus, 'bitchange_open_orders{market="BTC-USDT"}') == 1
    assert scalar(prometheus, 'sum(bitchange_logins_total{outcome="throttled"})') >= 1
    assert scalar(prometheus, 'sum(bitchange_logins_total{outcome="failure"})') >= 3
    assert scalar(prometheus, 'sum(bitchange_logins_total{outcome="success"})') >= 2
    assert scalar(prometheus, 'sum(bitchange_rate_limited_total{action="login",'
                              'scope="account"})') >= 1
    assert scalar(prometheus, "bitchange_ledger_reconcile_ok") == 1
    # +Inf (configured, none yet) until the first scheduled backup has finished.
    wait_for(lambda: scalar(prometheus, "bitchange_backup_age_seconds") < 300,
             "a fresh backup")
    wait_for(lambda: {("outbox", "ok"), ("reconcile", "ok"), ("backup", "ok")} <= {
        (r["metric"]["task"], r["metric"]["status"])
        for r in query(prometheus, "bitchange_job_runs_total")}, "the jobs' runs")
    assert scalar(prometheus, 'sum(bitchange_http_requests_total{route="/api/v3/order",'
                              'status="200"})') == 2
    # The rules load in the real server, and none fires on this healthy exchange.
    rules = _get(prometheus + "/api/v1/rules")["data"]["groups"]
    assert [g["name"] for g in rules] == ["bitchange"]
    firing = [a for a in _get(prometheus + "/api/v1/alerts")["data"]["alerts"]
              if a["state"] == "firing"]
    assert firing == []
    # The workers wrote their values where the start-up shell said (multiprocess mode).
    assert any(Path(app.env["PROMETHEUS_MULTIPROC_DIR"]).glob("counter_*.db"))
    assert console.errors == []
