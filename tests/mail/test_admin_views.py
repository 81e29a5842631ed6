"""The admin outbox rows: bodies only when asked for (they carry live tokens)."""

from __future__ import annotations

from datetime import UTC, datetime

from bitchange import db
from bitchange.clock import freeze
from bitchange.mail import admin_views
from bitchange.mail.outbox import enqueue
from bitchange.mail.templates import Rendered

MOMENT = datetime(2031, 5, 6, 7, 8, tzinfo=UTC)


def test_outbox_rows_show_bodies_only_when_asked(database):
    message = Rendered(subject="Reset your password", text="Open https://x.test/reset?t=abc",
                       html="<p>reset</p>")
    with freeze(lambda: MOMENT), db.write() as conn:
        message_id = enqueue(conn, to="trader@example.com", kind="password_reset",
                             message=message)
    with db.read() as conn:
        hidden = admin_views.outbox_rows(conn, show_bodies=False)
        shown = admin_views.outbox_rows(conn, show_bodies=True)
    assert hidden == [{"id": str(message_id), "to": "trader@example.com",
                       "subject": "Reset your password", "kind": "password_reset",
                       "status": "pending", "attempts": "0", "created": "2031-05-06 07:08 UTC",
                       "sent": "—", "error": "", "body": ""}]
    assert shown[0]["body"] == "Open https://x.test/reset?t=abc"
