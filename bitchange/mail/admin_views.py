"""The admin outbox screen: the latest emails as rows of display strings."""

from __future__ import annotations

from sqlalchemy import Connection

from bitchange.clock import when
from bitchange.mail import outbox


def outbox_rows(conn: Connection, *, show_bodies: bool) -> list[dict[str, str]]:
    """The latest emails; bodies only when `show_bodies` (they carry live tokens)."""
    return [{"id": str(r.id), "to": r.to_addr, "subject": r.subject, "kind": r.kind,
             "status": r.status, "attempts": str(r.attempts), "created": when(r.created_at),
             "sent": when(r.sent_at), "error": r.last_error,
             "body": r.text_body if show_bodies else ""} for r in outbox.recent(conn)]
