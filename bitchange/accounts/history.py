"""Login history: every attempt with time, IP and device; "seen before" for login alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from bitchange.accounts.devices import describe
from bitchange.accounts.tables import LoginEvent
from bitchange.clock import now

_events = LoginEvent.__table__


@dataclass(frozen=True)
class LoginRecord:
    created_at: datetime
    success: bool
    reason: str
    ip: str
    device: str


def record(conn: Connection, user_id: int | None, *, success: bool, reason: str, ip: str,
           user_agent: str) -> None:
    conn.execute(insert(_events).values(
        user_id=user_id, success=success, reason=reason, ip=ip[:64],
        user_agent=user_agent[:512], device=describe(user_agent), created_at=now()))


def is_new_device_or_ip(conn: Connection, user_id: int, ip: str, user_agent: str) -> bool:
    """True unless an earlier successful login of this user came from both this device (as
    described) and this IP."""
    base = select(_events.c.id).where(_events.c.user_id == user_id, _events.c.success)
    seen_device = conn.execute(base.where(_events.c.device == describe(user_agent))
                               .limit(1)).first() is not None
    seen_ip = conn.execute(base.where(_events.c.ip == ip[:64]).limit(1)).first() is not None
    return not (seen_device and seen_ip)


def for_user(conn: Connection, user_id: int, limit: int = 100) -> list[LoginRecord]:
    rows = conn.execute(select(_events).where(_events.c.user_id == user_id)
                        .order_by(_events.c.id.desc()).limit(limit))
    return [LoginRecord(r.created_at, r.success, r.reason, r.ip, r.device) for r in rows]


def last_success_before(conn: Connection, user_id: int, skip: int = 1) -> LoginRecord | None:
    """The previous successful login (skipping the `skip` most recent, e.g. the current one)."""
    row = conn.execute(select(_events).where(_events.c.user_id == user_id, _events.c.success)
                       .order_by(_events.c.id.desc()).offset(skip).limit(1)).first()
    return LoginRecord(row.created_at, True, row.reason, row.ip, row.device) if row else None
