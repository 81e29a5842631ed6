"""Emails to a user, queued in the caller's transaction with their anti-phishing code."""

from __future__ import annotations

from sqlalchemy import Connection, select

from bitchange.db.models import User
from bitchange.mail.outbox import enqueue
from bitchange.mail.templates import Link, render

_users = User.__table__


def notify(conn: Connection, user_id: int, kind: str, subject: str, paragraphs: list[str],
           *, link: Link | None = None, footer_link: Link | None = None,
           to: str | None = None) -> int:
    """Queue an email to the user (at `to` instead of their address: a new one to confirm)."""
    row = conn.execute(select(_users.c.email, _users.c.anti_phishing_code).where(
        _users.c.id == user_id)).one()
    message = render(subject, paragraphs, anti_phishing_code=row.anti_phishing_code,
                     link=link, footer_link=footer_link)
    return enqueue(conn, to=to or row.email, kind=kind, message=message, user_id=user_id)
