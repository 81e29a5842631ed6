"""The scheduler runs each job once across processes, survives a crashed leader, and records
every run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bitchange import db
from bitchange.clock import now
from bitchange.config import PROJECT_ROOT
from bitchange.jobs import lease
from bitchange.jobs.runs import last_runs
from bitchange.jobs.scheduler import JobSpec, Scheduler, every
from bitchange.ops.tables import JobRun


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.1)  # polling shared state against a deadline


def outbox_runs() -> list[tuple[str, object]]:
    with db.read() as conn:
        return [(r.holder, r.started_at) for r in conn.execute(
            select(JobRun.__table__).where(JobRun.__table__.c.job == "outbox")
            .order_by(JobRun.__table__.c.id))]


@pytest.fixture
def processes(database: str, tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    env = {**os.environ, "DATABASE_URL": database, "DATA_DIR": str(tmp_path),
           "BITCHANGE_ENV": "test", "SMTP_HOST": "", "OUTBOX_INTERVAL_SECONDS": "1",
           "BACKUP_SCHEDULE": "off", "RECONCILE_SCHEDULE": "off", "CLEANUP_SCHEDULE": "off",
           "SCHEDULER_LEASE_SECONDS": "3", "SCHEDULER_ENABLED": "true"}
    started = [subprocess.Popen([sys.executable, "-m", "tests.jobs.scheduler_proc"],
                                cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=(tmp_path / f"proc{i}.log").open("w"), text=True)
               for i in range(2)]
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_two_processes_run_each_job_once_and_survive_a_crashed_leader(processes):
    holders = [p.stdout.readline().split()[1] for p in processes]  # type: ignore[union-attr]
    assert len(set(holders)) == 2
    wait_for(lambda: len(outbox_runs()) >= 6)

    runs = outbox_runs()
    leaders = {holder for holder, _ in runs}
    assert len(leaders) == 1, "only the lease holder runs jobs"
    per_second = Counter(started.replace(microsecond=0) for _, started in runs)
    assert max(per_second.values()) == 1, f"a slot ran twice: {per_second}"
    assert all(p.poll() is None for p in processes), "both processes are running"

    # The leader crashes (no clean shutdown, the lease is not released): the other takes over.
    (leader,) = leaders
    crashed = processes[holders.index(leader)]
    crashed.send_signal(signal.SIGKILL)
    crashed.wait(10)
    survivor = holders[1 - holders.index(leader)]
    wait_for(lambda: sum(1 for h, _ in outbox_runs() if h == survivor) >= 3, timeout=30)

    runs = outbox_runs()
    per_second = Counter(started.replace(microsecond=0) for _, started in runs)
    assert max(per_second.values()) == 1, f"a slot ran twice: {per_second}"
    first_survivor_run = next(i for i, (h, _) in enumerate(runs) if h == survivor)
    assert all(h == leader for h, _ in runs[:first_survivor_run])
    assert all(h == survivor for h, _ in runs[first_survivor_run:])


def test_the_lease_is_exclusive_until_it_expires(database):
    ttl = timedelta(seconds=30)
    assert lease.try_acquire("a", ttl)
    assert not lease.try_acquire("b", ttl)
    assert lease.try_acquire("a", ttl)  # renewal
    with db.write() as conn:  # a's lease runs out (it crashed and stopped renewing)
        conn.execute(text("UPDATE scheduler_leases SET expires_at = :t"),
                     {"t": (now() - timedelta(seconds=1)).replace(tzinfo=None)})
    assert lease.try_acquire("b", ttl)
    assert not lease.try_acquire("a", ttl)
    lease.release("b")
    assert lease.try_acquire("a", ttl)


def test_a_failing_job_is_recorded_and_others_keep_running(database):
    def boom() -> str:
        raise RuntimeError("disk on fire")

    done: list[str] = []
    scheduler = Scheduler([JobSpec("boom", boom, every(1)),
                           JobSpec("fine", lambda: done.append("x") or "fine", every(1))],
                          lease_seconds=5)
    scheduler.start()
    try:
        def both_ran() -> bool:
            with db.read() as conn:
                latest = last_runs(conn)
            return {"boom", "fine"} <= set(latest) and all(
                r.status != "running" for r in latest.values())
        wait_for(both_ran)
    finally:
        scheduler.shutdown()
    with db.read() as conn:
        latest = last_runs(conn)
    assert latest["boom"].status == "failed" and "disk on fire" in latest["boom"].detail
    assert latest["fine"].status == "ok" and latest["fine"].detail == "fine"
    assert lease.current()[0] == scheduler.holder
