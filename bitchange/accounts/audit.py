"""The admin audit log: who did what to whom, when, from which IP. Append-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from bitchange.clock import now
from bitchange.db.models import AdminAuditLog, User

_audit = AdminAuditLog.__table__
_users = User.__table__


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: datetime
    admin_email: str
    action: str
    target: str
    detail: str
    ip: str


def record(conn: Connection, admin_id: int, action: str, target: str, *, ip: str,
           detail: str = "") -> None:
    conn.execute(insert(_audit).values(admin_id=admin_id, action=action[:64],
                                       target=target[:128], detail=detail[:1000], ip=ip[:64],
                                       created_at=now()))


def search(conn: Connection, *, action: str = "", admin: str = "", target: str = "",
           limit: int = 200) -> list[AuditEntry]:
    query = (select(_audit, _users.c.email.label("admin_email"))
             .outerjoin(_users, _users.c.id == _audit.c.admin_id)
             .order_by(_audit.c.id.desc()).limit(limit))
    if action:
        query = query.where(_audit.c.action == action)
    if admin:
        query = query.where(_users.c.email.contains(admin.strip().lower()))
    if target:
        query = query.where(_audit.c.target.contains(target.strip()))
    return [AuditEntry(r.id, r.created_at, r.admin_email or "", r.action, r.target, r.detail,
                       r.ip) for r in conn.execute(query)]


def actions(conn: Connection) -> list[str]:
    """Every action recorded so far: the audit page filters by these, whatever area wrote them."""
    return sorted(conn.scalars(select(_audit.c.action).distinct()))
