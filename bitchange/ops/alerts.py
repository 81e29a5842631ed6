"""Operator alerts: an email to every admin (and ALERT_EMAILS), queued through the outbox in the
caller's transaction, so an alert exists exactly when the failure it reports was recorded."""

from __future__ import annotations

from sqlalchemy import Connection, select

from bitchange.config import get_settings
from bitchange.db.models import User
from bitchange.mail.outbox import enqueue
from bitchange.mail.templates import render

_users = User.__table__
ALERT_KIND = "ops_alert"


def admin_recipients(conn: Connection) -> list[tuple[str, int | None]]:
    """(address, user id) of every admin not frozen, then the extra ALERT_EMAILS."""
    rows = conn.execute(select(_users.c.email, _users.c.id).where(
        _users.c.is_admin.is_(True), _users.c.frozen_at.is_(None)).order_by(_users.c.id))
    found: list[tuple[str, int | None]] = [(r.email, r.id) for r in rows]
    known = {email.lower() for email, _ in found}
    for extra in get_settings().alert_emails.split(","):
        if (address := extra.strip()) and address.lower() not in known:
            found.append((address, None))
            known.add(address.lower())
    return found


def alert_admins(conn: Connection, subject: str, body: str) -> int:
    """Queue the alert for every admin; returns how many emails were queued."""
    message = render(subject, [p for p in body.split("\n\n") if p.strip()])
    recipients = admin_recipients(conn)
    for address, user_id in recipients:
        enqueue(conn, to=address, kind=ALERT_KIND, message=message, user_id=user_id)
    return len(recipients)
