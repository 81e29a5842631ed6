"""The Prometheus metrics: what the services count, what is read from the database at scrape
time, several processes adding up (prometheus-client's multiprocess mode), and who may read
`/metrics`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from bitchange import db
from bitchange.accounts import security
from bitchange.accounts.users import create_user
from bitchange.config import reload_settings
from bitchange.jobs import tasks
from bitchange.jobs.scheduler import JobSpec, Scheduler, every
from bitchange.mail.outbox import enqueue
from bitchange.mail.templates import render
from bitchange.ops import metrics
from bitchange.ops.backup import run_backup
from bitchange.trading import service
from bitchange.trading.service import OrderRequest, TradingError
from tests.accounts.conftest import PASSWORD, UA_FIREFOX
from tests.trading.conftest import BTC, USDT, make_trader, price, qty

SYMBOL = "BTC-USDT"


def samples(text: str | bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition: (name, sorted labels) -> value."""
    text = text.decode() if isinstance(text, bytes) else text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found, name: str, **labels: str) -> float:  # type: ignore[no-untyped-def]
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_orders_trades_and_matching_are_counted_by_market_and_outcome(database):
    service.forget_books()
    alice = make_trader("alice@example.com", {"BTC": 10 * BTC})
    bob = make_trader("bob@example.com", {"USDT": 1_000_000 * USDT})
    before = samples(metrics.render())
    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("60000"),
                                                            qty("1")))
    service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("60000"),
                                                          qty("0.4")))
    with pytest.raises(TradingError):
        service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("60000"),
                                                              qty("1000")))
    with pytest.raises(TradingError):  # no market: no series of its own
        service.place_order(bob.user_id, "NOPE-USDT", OrderRequest("BUY", "limit", 1, 1))
    after = samples(metrics.render())

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    count = "bitchange_order_placement_seconds_count"
    assert grew(count, market=SYMBOL, outcome="open") == 1
    assert grew(count, market=SYMBOL, outcome="filled") == 1
    assert grew(count, market=SYMBOL, outcome="rejected") == 1
    assert not any(labels and dict(labels).get("market") == "NOPE-USDT"
                   for _, labels in after)
    assert grew("bitchange_trades_total", market=SYMBOL) == 1
    assert grew("bitchange_match_seconds_count", market=SYMBOL) == 2  # the refused: no match
    # Read from the database at scrape time: alice's rest of 0.6 BTC.
    assert value(after, "bitchange_open_orders", market=SYMBOL) == 1
    assert value(after, "bitchange_open_orders", market="ETH-USDT") == 0
    service.forget_books()


def test_logins_are_counted_by_outcome(database):
    with db.write() as conn:
        create_user(conn, "trader@example.com", PASSWORD, verified=True)
    before = samples(metrics.render())
    with db.write() as conn:
        security.login_password(conn, "trader@example.com", PASSWORD, ip="10.0.0.1",
                                user_agent=UA_FIREFOX)
        security.login_password(conn, "trader@example.com", "not the password", ip="10.0.0.1",
                                user_agent=UA_FIREFOX)
    after = samples(metrics.render())
    for outcome in ("success", "failure"):
        key = ("bitchange_logins_total", (("outcome", outcome), ("step", "password")))
        assert after[key] - before.get(key, 0) == 1


def test_the_database_gauges_and_job_runs(database, monkeypatch, tmp_path):
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))
    reload_settings()
    with db.write() as conn:
        for n in range(3):
            enqueue(conn, to=f"u{n}@example.com", kind="t", message=render("hello", ["hi"]))
    found = samples(metrics.render())
    assert value(found, "bitchange_outbox_backlog") == 3
    assert value(found, "bitchange_outbox_failed") == 0
    assert value(found, "bitchange_outbox_oldest_pending_age_seconds") >= 0
    assert value(found, "bitchange_backup_configured") == 1
    assert value(found, "bitchange_backup_age_seconds") == float("inf")  # none yet
    assert value(found, "bitchange_scheduler_leader") == 0
    assert value(found, "bitchange_pending_withdrawals", status="pending_review") == 0
    assert ("bitchange_ledger_reconcile_ok", ()) not in found  # never ran: no verdict
    assert value(found, "bitchange_ledger_reconcile_last_success_timestamp_seconds") == 0
    assert value(found, "bitchange_database_up") == 1
    assert any(name == "bitchange_disk_free_bytes" and v > 0 for (name, _), v in found.items())

    run_backup()
    spec = JobSpec("reconcile", tasks.reconcile, every(3600))
    scheduler = Scheduler([spec], lease_seconds=30)
    runs_before = value(found, "bitchange_job_runs_total", task="reconcile", status="ok")
    scheduler.run(spec)
    found = samples(metrics.render())
    assert value(found, "bitchange_job_runs_total", task="reconcile", status="ok") \
        == runs_before + 1
    assert value(found, "bitchange_ledger_reconcile_ok") == 1
    assert value(found, "bitchange_ledger_reconcile_last_success_timestamp_seconds") > 0
    assert 0 <= value(found, "bitchange_backup_age_seconds") < 60
    assert value(found, "bitchange_scheduler_leader") == 1  # this one took the lease


_WORKER = """
import sys
from bitchange.ops import metrics
metrics.order_placed("BTC-USDT", "filled", 0.002, trades=int(sys.argv[1]))
metrics.LIVE_SCREENS.set(int(sys.argv[2]))
metrics.RATE_LIMITED.labels("login", "ip").inc()
if sys.argv[3] == "scrape":
    sys.stdout.write(metrics.render().decode())
"""


def _worker(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", _WORKER, *args], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return done.stdout


def test_several_processes_report_together(database, tmp_path: Path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    _worker(env, "2", "5", "-")  # worker 1, gone: its counts stay, its live gauge does not
    text = _worker(env, "3", "7", "scrape")  # worker 2, scraped
    found = samples(text)
    assert value(found, "bitchange_trades_total", market=SYMBOL) == 5
    assert value(found, "bitchange_order_placement_seconds_count", market=SYMBOL,
                 outcome="filled") == 2
    assert value(found, "bitchange_rate_limited_total", action="login", scope="ip") == 2
    assert value(found, "bitchange_live_screens") == 7  # livesum: live processes only
    assert value(found, "bitchange_open_orders", market=SYMBOL) == 0  # the database's, once


def test_metrics_are_for_the_monitoring_network_only(database, monkeypatch):
    from bitchange.web import api

    client = TestClient(api)
    direct = client.get("/metrics")
    assert direct.status_code == 200 and direct.headers["content-type"].startswith("text/plain")
    assert "bitchange_open_orders" in direct.text
    assert client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.1"}).status_code \
        == 404  # came through the public proxy
    monkeypatch.setenv("METRICS_TOKEN", "s3cret-token-for-prometheus")
    reload_settings()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    scraped = client.get("/metrics",
                         headers={"Authorization": "Bearer s3cret-token-for-prometheus"})
    assert scraped.status_code == 200
    # Requests are counted by route template and status.
    found = samples(scraped.text)
    assert value(found, "bitchange_http_requests_total", route="/metrics", method="GET",
                 status="404") >= 3
