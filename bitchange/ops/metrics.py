"""The exchange's Prometheus metrics, all defined here; `GET /metrics` renders them.

Two kinds:
- **Counted where it happens** (the services call these objects): order placement latency
  and outcome, matching time, trades, logins, job runs, rate-limit refusals, HTTP requests,
  live screens and API stream clients connected. With several backend processes (Reflex's
  workers) set PROMETHEUS_MULTIPROC_DIR: each process writes its values there and a scrape of
  any one of them adds them up (prometheus-client's multiprocess mode). `python -m bitchange
  run`/`serve` set it to a fresh directory (or wipe the one given) before the workers start.
- **Read from the database at scrape time** (`ExchangeCollector`): open orders, pending
  withdrawals, the outbox's backlog and failures, the last reconcile and its success time,
  backup age, the scheduler's leader, free disk space. The database is shared, so every
  process answers the same; these never go through the multiprocess files.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bitchange import db
from bitchange.clock import now
from bitchange.config import get_settings
from bitchange.db.models import Market
from bitchange.mail.tables import OutboxMessage
from bitchange.ops.health import backup_health, scheduler_health, storage_folders
from bitchange.ops.tables import JobRun
from bitchange.trading.tables import Order
from bitchange.wallet.tables import Withdrawal

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus-client when it is imported
# A directory named but not made yet (the launcher wipes or makes it only after its imports):
# the metrics below write their files there as they are defined.
if os.environ.get(MULTIPROC_ENV):
    Path(os.environ[MULTIPROC_ENV]).mkdir(parents=True, exist_ok=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST
# 0.5 ms to 1 s, then the slow tail.
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

ORDER_PLACEMENT = Histogram(
    "bitchange_order_placement_seconds",
    "Placing an order (validation, hold, matching, settlement, commit); _count is the number "
    "of placements, by market and outcome (open, partially_filled, filled, expired, rejected, "
    "error).", ["market", "outcome"], buckets=_FAST)
MATCHING = Histogram("bitchange_match_seconds", "The matching engine's part of a placement.",
                     ["market"], buckets=_FAST)
TRADES = Counter("bitchange_trades_total", "Trades executed.", ["market"])
LOGINS = Counter("bitchange_logins_total",
                 "Login steps by outcome: success, failure, throttled, frozen, need_code.",
                 ["step", "outcome"])
# The job's name is the `task` label: Prometheus's own `job` label names the scrape job.
JOB_RUNS = Counter("bitchange_job_runs_total", "Scheduled job runs by outcome (ok, failed).",
                   ["task", "status"])
JOB_SECONDS = Histogram("bitchange_job_seconds", "Scheduled job run time.", ["task"],
                        buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900))
RATE_LIMITED = Counter("bitchange_rate_limited_total",
                       "Requests refused by a rate limit, by action and scope (ip, account).",
                       ["action", "scope"])
HTTP_REQUESTS = Counter("bitchange_http_requests_total",
                        "Backend HTTP requests and WebSocket handshakes by route template, "
                        "method and status.", ["route", "method", "status"])
HTTP_SECONDS = Histogram("bitchange_http_request_seconds",
                         "Backend HTTP request time (to the response's start).", ["route"],
                         buckets=_FAST)
LIVE_SCREENS = Gauge("bitchange_live_screens",
                     "Trading screens (tabs) this exchange pushes live updates to.",
                     multiprocess_mode="livesum")
STREAM_CLIENTS = Gauge("bitchange_api_stream_clients",
                       "API WebSocket stream connections open.", multiprocess_mode="livesum")

_LOGIN_OUTCOMES = {"ok": "success", "failed": "failure"}
F = TypeVar("F", bound=Callable[..., Any])


def order_placed(market: str, outcome: str, seconds: float, trades: int = 0) -> None:
    ORDER_PLACEMENT.labels(market, outcome).observe(seconds)
    if trades:
        TRADES.labels(market).inc(trades)


def counts_login(step: str) -> Callable[[F], F]:
    """Count a login step's outcome (the decorated function returns a `LoginOutcome`)."""
    def decorate(fn: F) -> F:
        @wraps(fn)
        def counted(*args: Any, **kwargs: Any) -> Any:
            outcome = fn(*args, **kwargs)
            LOGINS.labels(step, _LOGIN_OUTCOMES.get(outcome.status, outcome.status)).inc()
            return outcome
        return counted  # type: ignore[return-value]
    return decorate


# --- read at scrape time -------------------------------------------------------------------

_orders = Order.__table__
_withdrawals = Withdrawal.__table__
_outbox = OutboxMessage.__table__
_runs = JobRun.__table__
_markets = Market.__table__
_PENDING_WITHDRAWALS = ("awaiting_email", "pending_review", "approved")  # funds still held


def _unix(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _gauge(name: str, doc: str, value: float | None = None,
           labels: dict[str, float] | None = None, label: str = "") -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label] if label else None)
    if labels is not None:
        for key, number in sorted(labels.items()):
            family.add_metric([key], number)
    elif value is not None:
        family.add_metric([], value)
    return family


class ExchangeCollector(Collector):
    """What the database says now (every process reads the same database)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        settings = get_settings()
        moment = now()
        try:
            with db.read() as conn:
                markets = {s: 0.0 for s in conn.scalars(select(_markets.c.symbol))}
                markets.update({symbol: float(count) for symbol, count in conn.execute(
                    select(_orders.c.symbol, func.count())
                    .where(_orders.c.status.in_(("open", "partially_filled")))
                    .group_by(_orders.c.symbol))})
                withdrawals = {s: 0.0 for s in _PENDING_WITHDRAWALS}
                withdrawals.update({status: float(count) for status, count in conn.execute(
                    select(_withdrawals.c.status, func.count())
                    .where(_withdrawals.c.status.in_(_PENDING_WITHDRAWALS))
                    .group_by(_withdrawals.c.status))})
                outbox = dict(conn.execute(select(_outbox.c.status, func.count())
                                           .group_by(_outbox.c.status)).all())
                oldest = conn.scalar(select(func.min(_outbox.c.created_at))
                                     .where(_outbox.c.status.in_(("pending", "sending"))))
                last = conn.execute(select(_runs.c.job, _runs.c.status)
                                    .where(_runs.c.status != "running")
                                    .order_by(_runs.c.id.desc()).limit(200)).all()
                successes = dict(conn.execute(
                    select(_runs.c.job, func.max(_runs.c.finished_at))
                    .where(_runs.c.status == "ok").group_by(_runs.c.job)).all())
                backup = backup_health(conn, settings, moment)
                scheduler = scheduler_health(conn, settings, moment)
        except Exception:
            yield _gauge("bitchange_database_up", "The database answered this scrape.", 0)
            return
        yield _gauge("bitchange_database_up", "The database answered this scrape.", 1)
        yield _gauge("bitchange_open_orders", "Open orders in the books.", labels=markets,
                     label="market")
        yield _gauge("bitchange_pending_withdrawals", "Withdrawals still holding funds.",
                     labels=withdrawals, label="status")
        yield _gauge("bitchange_outbox_backlog", "Emails waiting to be delivered.",
                     outbox.get("pending", 0) + outbox.get("sending", 0))
        yield _gauge("bitchange_outbox_failed", "Emails the outbox gave up on.",
                     outbox.get("failed", 0))
        yield _gauge("bitchange_outbox_oldest_pending_age_seconds",
                     "Age of the oldest email waiting (0 when none).",
                     (moment.timestamp() - _unix(oldest)) if oldest else 0.0)
        latest: dict[str, str] = {}
        for job, status in last:
            latest.setdefault(job, status)
        if "reconcile" in latest:
            yield _gauge("bitchange_ledger_reconcile_ok",
                         "1 if the last ledger reconcile passed, 0 if it failed.",
                         1.0 if latest["reconcile"] == "ok" else 0.0)
        yield _gauge("bitchange_ledger_reconcile_last_success_timestamp_seconds",
                     "When a ledger reconcile last passed (0: never).",
                     _unix(successes.get("reconcile")))
        yield _gauge("bitchange_job_last_success_timestamp_seconds",
                     "When each scheduled job last succeeded.",
                     labels={job: _unix(at) for job, at in successes.items()}, label="task")
        yield _gauge("bitchange_backup_configured", "1 if backups are due (BACKUP_DIR, "
                     "S3_BUCKET or production).", 1.0 if backup.configured else 0.0)
        yield _gauge("bitchange_backup_last_success_timestamp_seconds",
                     "When the last good backup finished (0: never).", _unix(backup.last_ok_at))
        if backup.configured:
            age = (moment - backup.last_ok_at).total_seconds() if backup.last_ok_at else None
            yield _gauge("bitchange_backup_age_seconds",
                         "Age of the last good backup (+Inf: none yet).",
                         age if age is not None else float("inf"))
        yield _gauge("bitchange_scheduler_enabled", "1 if SCHEDULER_ENABLED.",
                     1.0 if scheduler.enabled else 0.0)
        yield _gauge("bitchange_scheduler_leader",
                     "1 if a scheduler process holds an unexpired leader lease.",
                     1.0 if scheduler.alive else 0.0)
        free = {str(folder): float(shutil.disk_usage(folder).free)
                for folder in storage_folders(settings)}
        total = {str(folder): float(shutil.disk_usage(folder).total)
                 for folder in storage_folders(settings)}
        yield _gauge("bitchange_disk_free_bytes",
                     "Free space where the database and DATA_DIR live.", labels=free,
                     label="path")
        yield _gauge("bitchange_disk_size_bytes",
                     "Size of the file systems of the database and DATA_DIR.", labels=total,
                     label="path")


_exchange = ExchangeCollector()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal: only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user
        pass
    return True


def _forget_dead_processes(directory: Path) -> None:
    """A worker that died (and was replaced) no longer counts in the live gauges (screens,
    stream clients): prometheus-client's `mark_process_dead`, which the server never calls."""
    pids = {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob("gauge_live*_*.db")
            if path.stem.rsplit("_", 1)[1].isdigit()}
    for pid in pids:
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))


def render() -> bytes:
    """The exposition text: every process's counted values (multiprocess mode) or this
    process's, and the database's gauges."""
    registry = CollectorRegistry()
    if directory := os.environ.get(MULTIPROC_ENV):
        _forget_dead_processes(Path(directory))
        multiprocess.MultiProcessCollector(registry)
        registry.register(_exchange)
        return generate_latest(registry)
    registry.register(_exchange)
    return generate_latest(REGISTRY) + generate_latest(registry)


def timer() -> Callable[[], float]:
    """Seconds since this call, when the returned function is called."""
    started = time.perf_counter()
    return lambda: time.perf_counter() - started
