"""The scheduler's leader lease: one row; whoever holds it unexpired is the only process that runs
scheduled jobs.

Taking and renewing is one conditional UPDATE (`WHERE holder = me OR expires_at <= now`), which
is atomic on SQLite and PostgreSQL alike; the first ever lease is an INSERT that at most one
process wins (primary key). A crashed leader simply stops renewing, and another process takes
over once its lease expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, case, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bitchange import db
from bitchange.clock import now
from bitchange.ops.tables import SchedulerLease

_lease = SchedulerLease.__table__
SCHEDULER = "scheduler"


def try_acquire(holder: str, ttl: timedelta, name: str = SCHEDULER) -> bool:
    """Take or renew the lease for `ttl`; True when `holder` is the leader until then."""
    moment = now()
    with db.write() as conn:
        taken = conn.execute(
            update(_lease)
            .where(_lease.c.name == name,
                   or_(_lease.c.holder == holder, _lease.c.expires_at <= moment))
            .values(holder=holder, renewed_at=moment, expires_at=moment + ttl,
                    acquired_at=case((_lease.c.holder == holder, _lease.c.acquired_at),
                                     else_=moment))
        ).rowcount
        if taken == 1:
            return True
        if conn.execute(select(_lease.c.name).where(_lease.c.name == name)).first():
            return False
    try:
        with db.write() as conn:
            conn.execute(insert(_lease).values(name=name, holder=holder, acquired_at=moment,
                                               renewed_at=moment, expires_at=moment + ttl))
    except IntegrityError:
        return False  # another process inserted it first
    return True


def release(holder: str, name: str = SCHEDULER) -> None:
    """Give the lease up now (a clean shutdown), so another process can take over at once."""
    with db.write() as conn:
        conn.execute(update(_lease).where(_lease.c.name == name, _lease.c.holder == holder)
                     .values(expires_at=now()))


def current(name: str = SCHEDULER) -> tuple[str, object, object] | None:
    """(holder, renewed_at, expires_at) of the lease, or None if nobody ever took it."""
    with db.read() as conn:
        row = conn.execute(select(_lease.c.holder, _lease.c.renewed_at, _lease.c.expires_at)
                           .where(_lease.c.name == name)).first()
    return (row.holder, row.renewed_at, row.expires_at) if row else None


def live_holder(conn: Connection, name: str = SCHEDULER) -> tuple[str, datetime] | None:
    """(holder, expires_at) of the lease read on `conn` if it has not expired: some process is
    alive and leading."""
    row = conn.execute(select(_lease.c.holder, _lease.c.expires_at)
                       .where(_lease.c.name == name, _lease.c.expires_at > now())).first()
    return (row.holder, row.expires_at) if row else None
