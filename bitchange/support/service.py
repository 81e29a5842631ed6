"""Tickets and their messages. Users only ever reach their own tickets (the user id is part of
every query), and never see internal notes; staff see everything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, func, insert, select, update

from bitchange import ratelimits
from bitchange.accounts import audit
from bitchange.accounts.notices import notify
from bitchange.clock import aware, now
from bitchange.db.models import User
from bitchange.documents import storage
from bitchange.mail.templates import Link, public_link
from bitchange.support.tables import SupportMessage, SupportTicket

_tickets = SupportTicket.__table__
_messages = SupportMessage.__table__
_users = User.__table__

CATEGORIES = {"account": "Account and security", "verification": "Verification",
              "deposits": "Deposits", "withdrawals": "Withdrawals", "trading": "Trading",
              "staking": "Staking", "other": "Other"}
STATUSES = {"open": "Open", "waiting_on_user": "Waiting on you", "resolved": "Resolved",
            "closed": "Closed"}
PRIORITIES = ("low", "normal", "high", "urgent")
AGES = {"": None, "1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}
MAX_BODY = 5000


class SupportError(ValueError):
    """A refused ticket operation; the message is safe to show."""


def _body(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise SupportError("Write a message.")
    if len(body) > MAX_BODY:
        raise SupportError(f"A message can be at most {MAX_BODY} characters.")
    return body


def _attachment(conn: Connection, user_id: int, file_id: int | None) -> int | None:
    if file_id is None:
        return None
    stored = storage.get(conn, file_id)
    if stored is None or stored.owner_id != user_id or stored.purpose != "support":
        raise SupportError("Attach the file again.")
    if conn.scalar(select(_messages.c.id).where(_messages.c.attachment_id == file_id)):
        raise SupportError("Attach the file again.")
    return file_id


def open_ticket(conn: Connection, user_id: int, *, subject: str, category: str, body: str,
                attachment_id: int | None = None, ip: str = "") -> int:
    ratelimits.check("ticket", SupportError, ip=ip, account=user_id)
    subject = " ".join((subject or "").split())
    if not 3 <= len(subject) <= 120:
        raise SupportError("The subject must be 3 to 120 characters.")
    if category not in CATEGORIES:
        raise SupportError("Choose a category.")
    body = _body(body)
    attachment_id = _attachment(conn, user_id, attachment_id)
    moment = now()
    ticket_id = conn.execute(insert(_tickets).values(
        user_id=user_id, subject=subject, category=category, status="open", priority="normal",
        created_at=moment, updated_at=moment)).inserted_primary_key[0]
    conn.execute(insert(_messages).values(ticket_id=ticket_id, author_id=user_id, kind="user",
                                          body=body, attachment_id=attachment_id,
                                          created_at=moment))
    return ticket_id


def _own_ticket(conn: Connection, user_id: int, ticket_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(select(_tickets).where(_tickets.c.id == ticket_id,
                                              _tickets.c.user_id == user_id)).first()
    if row is None:
        raise SupportError("Unknown ticket.")
    return row


def user_reply(conn: Connection, user_id: int, ticket_id: int, body: str,
               attachment_id: int | None = None) -> int:
    ticket = _own_ticket(conn, user_id, ticket_id)
    if ticket.status == "closed":
        raise SupportError("This ticket is closed; open a new one.")
    body = _body(body)
    attachment_id = _attachment(conn, user_id, attachment_id)
    moment = now()
    message_id = conn.execute(insert(_messages).values(
        ticket_id=ticket_id, author_id=user_id, kind="user", body=body,
        attachment_id=attachment_id, created_at=moment)).inserted_primary_key[0]
    conn.execute(update(_tickets).where(_tickets.c.id == ticket_id)
                 .values(status="open", updated_at=moment))
    return message_id


def user_close(conn: Connection, user_id: int, ticket_id: int) -> None:
    ticket = _own_ticket(conn, user_id, ticket_id)
    if ticket.status == "closed":
        return
    conn.execute(update(_tickets).where(_tickets.c.id == ticket_id, _tickets.c.user_id == user_id)
                 .values(status="closed", updated_at=now()))


def staff_reply(conn: Connection, staff_id: int, ticket_id: int, body: str, *,
                internal: bool = False, ip: str = "", attachment_id: int | None = None) -> int:
    """A reply the user sees (and is emailed about), or an internal note they never see. An
    attachment is one of the staff member's own unsent support uploads, as for users."""
    ticket = conn.execute(select(_tickets).where(_tickets.c.id == ticket_id)).first()
    if ticket is None:
        raise SupportError("Unknown ticket.")
    body = _body(body)
    attachment_id = _attachment(conn, staff_id, attachment_id)
    moment = now()
    message_id = conn.execute(insert(_messages).values(
        ticket_id=ticket_id, author_id=staff_id, kind="note" if internal else "staff",
        body=body, attachment_id=attachment_id, created_at=moment)).inserted_primary_key[0]
    audit.record(conn, staff_id, "ticket_note" if internal else "ticket_reply",
                 f"ticket {ticket_id}", ip=ip)
    if internal:
        conn.execute(update(_tickets).where(_tickets.c.id == ticket_id)
                     .values(updated_at=moment))
        return message_id
    status = "waiting_on_user" if ticket.status in ("open", "resolved") else ticket.status
    if ticket.status == "closed":
        status = "waiting_on_user"
    conn.execute(update(_tickets).where(_tickets.c.id == ticket_id)
                 .values(status=status, updated_at=moment))
    notify(conn, ticket.user_id, "ticket_reply", f"New reply to your ticket #{ticket_id}", [
        f"Our support team replied to your ticket \"{ticket.subject}\".",
        "Open the ticket to read the reply and answer."],
        link=Link("Open your ticket", public_link("/support/ticket", id=str(ticket_id))))
    return message_id


def set_status(conn: Connection, staff_id: int, ticket_id: int, status: str, *,
               ip: str = "") -> None:
    if status not in STATUSES:
        raise SupportError("Unknown status.")
    if conn.execute(update(_tickets).where(_tickets.c.id == ticket_id)
                    .values(status=status, updated_at=now())).rowcount != 1:
        raise SupportError("Unknown ticket.")
    audit.record(conn, staff_id, "ticket_status", f"ticket {ticket_id}", ip=ip, detail=status)


def set_priority(conn: Connection, staff_id: int, ticket_id: int, priority: str, *,
                 ip: str = "") -> None:
    if priority not in PRIORITIES:
        raise SupportError("Unknown priority.")
    if conn.execute(update(_tickets).where(_tickets.c.id == ticket_id)
                    .values(priority=priority, updated_at=now())).rowcount != 1:
        raise SupportError("Unknown ticket.")
    audit.record(conn, staff_id, "ticket_priority", f"ticket {ticket_id}", ip=ip,
                 detail=priority)


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TicketSummary:
    id: int
    subject: str
    category: str
    status: str
    priority: str
    email: str
    created_at: datetime
    updated_at: datetime


def _summary(row) -> TicketSummary:  # type: ignore[no-untyped-def]
    return TicketSummary(row.id, row.subject, row.category, row.status, row.priority,
                         row.email, aware(row.created_at), aware(row.updated_at))  # type: ignore[arg-type]


def _ticket_query():  # type: ignore[no-untyped-def]
    return (select(_tickets, _users.c.email).join(_users, _users.c.id == _tickets.c.user_id))


def tickets_of(conn: Connection, user_id: int, limit: int = 100) -> list[TicketSummary]:
    return [_summary(r) for r in conn.execute(
        _ticket_query().where(_tickets.c.user_id == user_id)
        .order_by(_tickets.c.updated_at.desc(), _tickets.c.id.desc()).limit(limit))]


def queue(conn: Connection, *, status: str = "", category: str = "", age: str = "",
          limit: int = 200) -> list[TicketSummary]:
    """Staff queue, oldest first. `status` "" means every status except closed; `age` keeps
    tickets opened more than 1, 3 or 7 days ago."""
    query = _ticket_query()
    if status in STATUSES:
        query = query.where(_tickets.c.status == status)
    elif status != "all":
        query = query.where(_tickets.c.status != "closed")
    if category in CATEGORIES:
        query = query.where(_tickets.c.category == category)
    older = AGES.get(age)
    if older is not None:
        query = query.where(_tickets.c.created_at < now() - older)
    priority_rank = case({p: n for n, p in enumerate(PRIORITIES[::-1])},
                         value=_tickets.c.priority, else_=99)
    return [_summary(r) for r in conn.execute(
        query.order_by(priority_rank, _tickets.c.created_at).limit(limit))]


@dataclass(frozen=True)
class MessageView:
    id: int
    kind: str
    author: str
    body: str
    created_at: datetime
    attachment: storage.StoredFile | None


def thread(conn: Connection, ticket_id: int, *, viewer_id: int | None,
           staff: bool) -> tuple[TicketSummary, list[MessageView]]:
    """The ticket and its messages as `viewer_id` may see them (staff: everything; a user: their
    own ticket, without internal notes)."""
    query = _ticket_query().where(_tickets.c.id == ticket_id)
    if not staff:
        query = query.where(_tickets.c.user_id == viewer_id)
    row = conn.execute(query).first()
    if row is None:
        raise SupportError("Unknown ticket.")
    messages_query = (select(_messages, _users.c.email)
                      .join(_users, _users.c.id == _messages.c.author_id)
                      .where(_messages.c.ticket_id == ticket_id).order_by(_messages.c.id))
    if not staff:
        messages_query = messages_query.where(_messages.c.kind != "note")
    messages = []
    for m in conn.execute(messages_query):
        author = m.email if (staff or m.kind == "user") else "BitChange support"
        messages.append(MessageView(m.id, m.kind, author, m.body, aware(m.created_at),  # type: ignore[arg-type]
                                    storage.get(conn, m.attachment_id)
                                    if m.attachment_id else None))
    return _summary(row), messages


def attachment_visible_to(conn: Connection, file_id: int, user_id: int) -> bool:
    """Whether a (non-staff) user may fetch this attachment: it is on a message they can see,
    of a ticket they own."""
    return conn.scalar(
        select(func.count()).select_from(_messages)
        .join(_tickets, _tickets.c.id == _messages.c.ticket_id)
        .where(_messages.c.attachment_id == file_id, _messages.c.kind != "note",
               _tickets.c.user_id == user_id)) > 0
