"""The record of scheduled job runs (shown on the admin dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from bitchange import db
from bitchange.clock import now
from bitchange.ops.tables import JobRun

_runs = JobRun.__table__


@dataclass(frozen=True)
class JobRunInfo:
    job: str
    holder: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    detail: str


def record_start(job: str, holder: str) -> int:
    with db.write() as conn:
        return int(conn.execute(insert(_runs).values(
            job=job, holder=holder, started_at=now(), status="running", detail="",
        )).inserted_primary_key[0])


def record_finish(run_id: int, status: str, detail: str) -> None:
    with db.write() as conn:
        conn.execute(update(_runs).where(_runs.c.id == run_id).values(
            finished_at=now(), status=status, detail=detail[:2000]))


def last_runs(conn: Connection) -> dict[str, JobRunInfo]:
    """The latest run of every job that ever ran."""
    latest = (select(_runs.c.job, func.max(_runs.c.id).label("id"))
              .group_by(_runs.c.job).subquery())
    rows = conn.execute(select(_runs).join(latest, latest.c.id == _runs.c.id)
                        .order_by(_runs.c.job))
    return {r.job: JobRunInfo(r.job, r.holder, r.started_at, r.finished_at, r.status, r.detail)
            for r in rows}
