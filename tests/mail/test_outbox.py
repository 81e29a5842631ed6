"""The outbox against a real SMTP server: delivered once, kept when SMTP is down, retried with
backoff, given up after the last attempt, and never sent for a rolled-back change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bitchange import clock, db
from bitchange.mail import outbox
from bitchange.mail.tables import OutboxMessage
from bitchange.mail.templates import Link, render
from tests.mailbox import html_of, text_of

_outbox = OutboxMessage.__table__


def _queue(to: str = "ann@example.com", subject: str = "Hello") -> int:
    with db.write() as conn:
        return outbox.enqueue(conn, to=to, kind="test", message=render(
            subject, ["First paragraph."], anti_phishing_code="blue heron",
            link=Link("Open", "http://localhost:3000/x?token=abc")))


def _status(message_id: int) -> tuple[str, int, str]:
    with db.read() as conn:
        row = conn.execute(select(_outbox).where(_outbox.c.id == message_id)).one()
    return row.status, row.attempts, row.last_error


def test_delivers_text_and_html_parts_once(database, smtp_server):
    message_id = _queue()
    assert outbox.deliver_due() == 1
    assert outbox.deliver_due() == 0
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["Subject"] == "Hello"
    assert "ann@example.com" in message["To"]
    assert "Your anti-phishing code: blue heron" in text_of(message)
    assert "http://localhost:3000/x?token=abc" in text_of(message)
    assert "blue heron" in html_of(message)
    assert _status(message_id)[0] == "sent"


def test_nothing_is_sent_for_a_rolled_back_change(database, smtp_server):
    with pytest.raises(RuntimeError), db.write() as conn:
        outbox.enqueue(conn, to="ann@example.com", kind="test", message=render("x", ["y"]))
        raise RuntimeError("the change failed")
    assert outbox.deliver_due() == 0
    assert smtp_server.messages == []


def test_smtp_down_keeps_the_message_and_retries_with_backoff(database, smtp_server):
    message_id = _queue()
    smtp_server.refuse_with = "451 4.3.0 try again later"
    start = clock.now()
    assert outbox.deliver_due(start) == 0
    status, attempts, error = _status(message_id)
    assert (status, attempts) == ("pending", 1)
    assert "451" in error
    # Not due again before the backoff has passed.
    assert outbox.deliver_due(start + timedelta(seconds=10)) == 0
    assert _status(message_id)[1] == 1
    smtp_server.refuse_with = None
    assert outbox.deliver_due(start + outbox.backoff(1) + timedelta(seconds=1)) == 1
    assert _status(message_id)[0] == "sent"
    assert len(smtp_server.messages) == 1


def test_gives_up_after_the_last_attempt(database, smtp_server):
    message_id = _queue()
    smtp_server.refuse_with = "554 5.0.0 no"
    moment = clock.now()
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.deliver_due(moment)
        moment += outbox.BACKOFF_MAX + timedelta(seconds=1)
    status, attempts, error = _status(message_id)
    assert (status, attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert "554" in error
    assert outbox.deliver_due(moment) == 0


def test_backoff_grows_and_is_capped():
    assert outbox.backoff(1) == timedelta(seconds=30)
    assert outbox.backoff(2) == timedelta(seconds=60)
    assert outbox.backoff(3) == timedelta(seconds=120)
    assert outbox.backoff(30) == outbox.BACKOFF_MAX


def test_a_claimed_row_is_not_sent_again(database, smtp_server):
    """Another worker claimed the row (status 'sending'): this one must not send it."""
    message_id = _queue()
    with db.write() as conn:
        conn.execute(update(_outbox).where(_outbox.c.id == message_id).values(
            status="sending", claimed_at=clock.now(), attempts=1))
    assert outbox.deliver_due() == 0
    assert smtp_server.messages == []
    # Interrupted long ago: marked failed for an operator, still not re-sent.
    assert outbox.deliver_due(clock.now() + outbox.STALE_CLAIM + timedelta(minutes=1)) == 0
    assert _status(message_id)[0] == "failed"
    assert smtp_server.messages == []


def test_concurrent_workers_send_each_message_once(database, smtp_server):
    from concurrent.futures import ThreadPoolExecutor

    for i in range(10):
        _queue(subject=f"m{i}")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: outbox.deliver_due(), range(4)))
    assert sum(results) == 10
    assert sorted(str(m["Subject"]) for m in smtp_server.messages) == [f"m{i}" for i in range(10)]


def test_without_smtp_messages_are_logged_and_kept(database, monkeypatch, caplog):
    from bitchange.config import reload_settings

    monkeypatch.setenv("SMTP_HOST", "")
    reload_settings()
    message_id = _queue()
    with caplog.at_level("WARNING", logger="bitchange.mail"):
        assert outbox.deliver_due() == 1
    assert "token=abc" in caplog.text
    assert _status(message_id)[0] == "logged"
    with db.read() as conn:
        assert outbox.recent(conn)[0].text_body.count("token=abc") == 1
