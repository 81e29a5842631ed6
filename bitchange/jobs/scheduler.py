"""One scheduler for the whole deployment, however many backend processes start.

Every backend process runs an APScheduler with the same wall-clock (cron) triggers, plus a
heartbeat that takes or renews the leader lease (`jobs.lease`). When a trigger fires, the job
first renews the lease: only the holder runs it, every other process skips. Because a run renews
the lease for `SCHEDULER_LEASE_SECONDS`, no other process can become leader (and run the same
slot) within that time; a crashed leader stops renewing and another process takes over once its
lease has expired. Each run is recorded in `job_runs` with its outcome.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bitchange.config import Settings, get_settings
from bitchange.jobs import lease, runs, tasks
from bitchange.ops import metrics
from bitchange.ops.logs import configure_logging

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[[], str | None]
    trigger: BaseTrigger


def cron(expression: str) -> CronTrigger | None:
    """A 5-field crontab in UTC; "off" (or empty) disables the job."""
    if expression.strip().lower() in ("", "off", "none", "disabled"):
        return None
    return CronTrigger.from_crontab(expression, timezone=UTC)


def every(seconds: float) -> BaseTrigger:
    """Aligned on the wall clock (so all processes fire together) when it divides a minute."""
    whole = int(seconds)
    if whole == seconds and 0 < whole < 60 and 60 % whole == 0:
        return CronTrigger(second=f"*/{whole}", timezone=UTC)
    return IntervalTrigger(seconds=max(seconds, 1), timezone=UTC)


def default_jobs(settings: Settings) -> list[JobSpec]:
    planned: list[tuple[str, Callable[[], str | None], BaseTrigger | None]] = [
        ("outbox", tasks.outbox, every(settings.outbox_interval_seconds)),
        ("backup", tasks.backup, cron(settings.backup_schedule)),
        ("reconcile", tasks.reconcile, cron(settings.reconcile_schedule)),
        ("cleanup", tasks.cleanup, cron(settings.cleanup_schedule)),
        ("staking_accrual", tasks.staking_accrual, cron(settings.staking_accrual_schedule)),
        ("expire_withdrawals", tasks.expire_withdrawals,
         cron(settings.withdrawal_expiry_schedule)),
        ("stale_uploads", tasks.stale_uploads, cron(settings.upload_cleanup_schedule)),
        ("proof_snapshot", tasks.proof_snapshot, cron(settings.proof_snapshot_schedule)),
        ("price_alerts", tasks.price_alerts, every(settings.price_alert_interval_seconds)),
    ]
    return [JobSpec(name, func, trigger) for name, func, trigger in planned if trigger]


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Scheduler:
    def __init__(self, jobs: list[JobSpec], *, lease_seconds: int = 60,
                 holder: str | None = None) -> None:
        self.jobs = jobs
        self.holder = holder or holder_id()
        self.ttl = timedelta(seconds=lease_seconds)
        self.is_leader = False
        self._aps = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
        self._lock = threading.Lock()

    def start(self) -> None:
        self.heartbeat()
        beat = IntervalTrigger(seconds=max(self.ttl.total_seconds() / 3, 0.5))
        self._aps.add_job(self.heartbeat, beat, id="lease-heartbeat", name="lease-heartbeat")
        for spec in self.jobs:
            self._aps.add_job(self.run, spec.trigger, args=[spec], id=spec.name, name=spec.name)
        self._aps.start()
        log.info("scheduler started as %s with jobs %s", self.holder,
                 ", ".join(s.name for s in self.jobs))

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=True)
        if self.is_leader:
            try:
                lease.release(self.holder)
            except Exception:
                log.exception("could not release the scheduler lease")
        self.is_leader = False

    def _renew(self) -> bool:
        with self._lock:
            try:
                leader = lease.try_acquire(self.holder, self.ttl)
            except Exception:
                log.exception("scheduler lease check failed")
                leader = False
            if leader != self.is_leader:
                log.info("scheduler %s is %s", self.holder,
                         "now the leader" if leader else "no longer the leader")
            self.is_leader = leader
            return leader

    def heartbeat(self) -> None:
        self._renew()

    def run(self, spec: JobSpec) -> None:
        """Run `spec` if this process holds the lease (renewing it first); record the run."""
        if not self._renew():
            return
        run_id = runs.record_start(spec.name, self.holder)
        elapsed = metrics.timer()
        try:
            detail = spec.func() or "ok"
        except Exception as exc:
            log.exception("scheduled job %s failed", spec.name)
            metrics.JOB_RUNS.labels(spec.name, "failed").inc()
            runs.record_finish(run_id, "failed", f"{type(exc).__name__}: {exc}")
        else:
            metrics.JOB_RUNS.labels(spec.name, "ok").inc()
            runs.record_finish(run_id, "ok", detail)
        finally:
            metrics.JOB_SECONDS.labels(spec.name).observe(elapsed())


_running: Scheduler | None = None
_start_lock = threading.Lock()


def start_scheduler(settings: Settings | None = None) -> Scheduler | None:
    """Start this process's scheduler once (the app's lifespan calls this); None if disabled."""
    global _running
    settings = settings or get_settings()
    if not settings.scheduler_enabled:
        log.info("scheduler disabled (SCHEDULER_ENABLED=false)")
        return None
    with _start_lock:
        if _running is None:
            scheduler = Scheduler(default_jobs(settings),
                                  lease_seconds=settings.scheduler_lease_seconds)
            scheduler.start()
            _running = scheduler
        return _running


def stop_scheduler() -> None:
    global _running
    with _start_lock:
        if _running is not None:
            _running.shutdown()
            _running = None


@asynccontextmanager
async def lifespan_task() -> AsyncIterator[None]:
    """A Reflex lifespan task: the scheduler runs for as long as the backend process does."""
    configure_logging()
    await asyncio.to_thread(start_scheduler)
    try:
        yield
    finally:
        await asyncio.to_thread(stop_scheduler)
