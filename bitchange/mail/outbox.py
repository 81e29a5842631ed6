"""The outbox: `enqueue` writes an email in the caller's transaction; `deliver_due` sends.

Delivery claims each due row with a conditional UPDATE (`pending` -> `sending`) in its own
transaction before talking to SMTP, so two workers (or two processes) never send the same row.
A failure puts the row back to `pending` with an exponential backoff, and after `MAX_ATTEMPTS`
marks it `failed`. A row left in `sending` by a crash mid-send is *not* retried automatically:
the SMTP server may already have accepted it, and "never twice" wins over "retry"; after
`STALE_CLAIM` it is marked `failed` ("interrupted") for an operator to look at on the admin
Outbox page.

Without `SMTP_HOST` (development) messages are written to the log and kept, status `logged`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import emails
from sqlalchemy import Connection, and_, insert, select, update

from bitchange import db
from bitchange.clock import now as clock_now
from bitchange.config import Settings, get_settings
from bitchange.mail.tables import OutboxMessage
from bitchange.mail.templates import Rendered

log = logging.getLogger("bitchange.mail")

_outbox = OutboxMessage.__table__
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
MAX_ATTEMPTS = 8
STALE_CLAIM = timedelta(minutes=10)
SMTP_TIMEOUT = 15  # seconds


class DeliveryError(RuntimeError):
    """The SMTP server did not accept the message."""


def enqueue(conn: Connection, *, to: str, kind: str, message: Rendered,
            user_id: int | None = None) -> int:
    """Queue one email in the caller's transaction: it exists only if the change commits."""
    return conn.execute(insert(_outbox).values(
        user_id=user_id, kind=kind[:32], to_addr=to, subject=message.subject[:200],
        text_body=message.text, html_body=message.html, status="pending", attempts=0,
        next_attempt_at=clock_now(), created_at=clock_now(), last_error="",
    )).inserted_primary_key[0]


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones: 30 s, 1 min, 2 min ... 1 h."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def smtp_options(settings: Settings) -> dict:
    options: dict = {"host": settings.smtp_host, "port": settings.smtp_port,
                     "timeout": SMTP_TIMEOUT, "fail_silently": False}
    if settings.smtp_tls == "ssl":
        options["ssl"] = True
    elif settings.smtp_tls == "starttls":
        options["tls"] = True
    if settings.smtp_user:
        options["user"] = settings.smtp_user
        options["password"] = settings.smtp_password
    return options


def _send(row, settings: Settings) -> str:  # type: ignore[no-untyped-def]
    """Send one row; returns the final status ('sent' or 'logged'). Raises on failure."""
    if not settings.smtp_host:
        log.warning("Email (no SMTP_HOST, not sent) to=%s subject=%s\n%s",
                    row.to_addr, row.subject, row.text_body)
        return "logged"
    message = emails.html(html=row.html_body, text=row.text_body, subject=row.subject,
                          mail_from=settings.mail_from)
    response = message.send(to=row.to_addr, smtp=smtp_options(settings))
    if response is None or response.status_code not in (250, 251):
        detail = getattr(response, "error", None) or getattr(response, "status_text", "")
        raise DeliveryError(f"SMTP refused: {getattr(response, 'status_code', None)} {detail}")
    return "sent"


def _claim(moment: datetime, message_id: int):  # type: ignore[no-untyped-def]
    with db.write() as conn:
        claimed = conn.execute(update(_outbox).where(
            _outbox.c.id == message_id, _outbox.c.status == "pending",
            _outbox.c.next_attempt_at <= moment,
        ).values(status="sending", claimed_at=moment, attempts=_outbox.c.attempts + 1))
        if claimed.rowcount != 1:
            return None
        return conn.execute(select(_outbox).where(_outbox.c.id == message_id)).first()


def _fail_interrupted(moment: datetime) -> None:
    with db.write() as conn:
        conn.execute(update(_outbox).where(
            _outbox.c.status == "sending", _outbox.c.claimed_at < moment - STALE_CLAIM,
        ).values(status="failed", last_error="interrupted while sending; not retried "
                                             "automatically (it may have been delivered)"))


def deliver_due(now: datetime | None = None, *, limit: int = 50) -> int:
    """Send what is due; returns how many messages were sent (or logged)."""
    moment = now or clock_now()
    settings = get_settings()
    _fail_interrupted(moment)
    with db.read() as conn:
        due = list(conn.scalars(select(_outbox.c.id).where(
            _outbox.c.status == "pending", _outbox.c.next_attempt_at <= moment,
        ).order_by(_outbox.c.id).limit(limit)))
    delivered = 0
    for message_id in due:
        row = _claim(moment, message_id)
        if row is None:  # another worker got it first
            continue
        try:
            status = _send(row, settings)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            gave_up = row.attempts >= MAX_ATTEMPTS
            log.warning("Email %s to %s failed (attempt %s)%s: %s", row.id, row.to_addr,
                        row.attempts, ", giving up" if gave_up else "", error)
            values = {"status": "failed" if gave_up else "pending", "last_error": error,
                      "next_attempt_at": moment + backoff(row.attempts)}
        else:
            values = {"status": status, "sent_at": clock_now(), "last_error": ""}
            delivered += 1
        with db.write() as conn:
            conn.execute(update(_outbox).where(
                and_(_outbox.c.id == row.id, _outbox.c.status == "sending")).values(**values))
    return delivered


@dataclass(frozen=True)
class OutboxRow:
    id: int
    to_addr: str
    kind: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str
    text_body: str


def recent(conn: Connection, limit: int = 100) -> list[OutboxRow]:
    rows = conn.execute(select(_outbox).order_by(_outbox.c.id.desc()).limit(limit))
    return [OutboxRow(r.id, r.to_addr, r.kind, r.subject, r.status, r.attempts, r.created_at,
                      r.sent_at, r.last_error, r.text_body) for r in rows]


async def run_forever(interval_seconds: float) -> None:
    """Deliver every `interval_seconds` until cancelled (the app's lifespan task)."""
    while True:
        try:
            await asyncio.to_thread(deliver_due)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Outbox delivery round failed")
        await asyncio.sleep(interval_seconds)
