"""Phase 2's app nodes: two `serve --backend-only` processes on one PostgreSQL database and one
Redis, each with workers of its own. Exactly one worker of one node leads the scheduler; when
that node is killed (SIGKILL: no lease released) a worker of the other node takes over and runs
the jobs."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from bitchange import db
from bitchange.clock import now
from bitchange.jobs import lease
from bitchange.ops.tables import JobRun
from tests.nodes import Node, node_env, running_nodes
from tests.postgres import postgres_database

REDIS_URL = os.environ.get("BITCHANGE_NODES_REDIS_URL", "redis://127.0.0.1:6379/11")
LEASE_SECONDS = 3
_runs = JobRun.__table__


def wait_for(condition, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.2)  # polling shared state against a deadline
    return found


def leader_pid() -> int | None:
    held = lease.current()
    if held is None or held[2] <= now():
        return None
    return int(held[0].split(":")[1])  # holder = host:pid:random


def outbox_runs_by(node: Node) -> int:
    with db.read() as conn:
        holders = conn.scalars(select(_runs.c.holder).where(_runs.c.job == "outbox"))
        return sum(1 for holder in holders if node.owns(int(holder.split(":")[1])))


@pytest.fixture
def nodes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[Node]]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    client.flushdb()
    with postgres_database(monkeypatch) as url:
        env = node_env(url, REDIS_URL, tmp_path, GRANIAN_WORKERS="2",
                       SCHEDULER_LEASE_SECONDS=str(LEASE_SECONDS), OUTBOX_INTERVAL_SECONDS="1",
                       BACKUP_SCHEDULE="off", RECONCILE_SCHEDULE="off")
        with running_nodes(["node-a", "node-b"], env, tmp_path) as started:
            yield started
    client.flushdb()
    client.close()


def test_scheduler_leadership_moves_to_the_other_node_when_the_leader_dies(nodes):
    pid = wait_for(leader_pid)
    [leader] = [node for node in nodes if node.owns(pid)]
    [other] = [node for node in nodes if node is not leader]
    wait_for(lambda: outbox_runs_by(leader) >= 2)
    assert outbox_runs_by(other) == 0, "only the leader's node runs jobs"

    leader.kill()
    assert not leader.healthy()
    new_pid = wait_for(lambda: (p := leader_pid()) is not None and p != pid and p)
    assert other.owns(new_pid), "a worker of the surviving node leads now"
    wait_for(lambda: outbox_runs_by(other) >= 2)
    assert other.healthy()
