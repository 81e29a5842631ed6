"""What the support screens show (the user's tickets and one ticket's conversation, the staff
queue and its tickets), as small JSON-ready rows: no Reflex here, so it is testable without a
browser and shared by the users' and the staff's screens. Attachments are linked through the
authorised /documents route."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange import routes
from bitchange.clock import when
from bitchange.documents import storage
from bitchange.support import service as support
from bitchange.support.service import MessageView, TicketSummary

Row = dict[str, str]
# [value, label] pairs for the category choice of a new ticket.
CATEGORY_CHOICES = [[key, label] for key, label in support.CATEGORIES.items()]


def ticket_row(t: TicketSummary, *, staff: bool) -> Row:
    """One ticket; its link opens the staff's page of the ticket or the user's."""
    return {"id": str(t.id), "subject": t.subject,
            "category": support.CATEGORIES.get(t.category, t.category),
            "status": t.status, "status_label": support.STATUSES.get(t.status, t.status),
            "priority": t.priority, "email": t.email, "created": when(t.created_at),
            "updated": when(t.updated_at), "href": routes.support_ticket(t.id, staff=staff)}


def message_rows(messages: list[MessageView]) -> list[Row]:
    return [{"id": str(m.id), "kind": m.kind, "author": m.author, "body": m.body,
             "time": when(m.created_at),
             "attachment": storage.url(m.attachment) if m.attachment else "",
             "attachment_type": m.attachment.content_type if m.attachment else ""}
            for m in messages]


def tickets_of(conn: Connection, user_id: int) -> list[Row]:
    """The user's own tickets, last changed first."""
    return [ticket_row(t, staff=False) for t in support.tickets_of(conn, user_id)]


def queue_rows(conn: Connection, *, status: str = "", category: str = "",
               age: str = "") -> list[Row]:
    """The staff queue with its filters (see `support.queue`)."""
    return [ticket_row(t, staff=True) for t in support.queue(
        conn, status=status, category=category, age=age)]


@dataclass(frozen=True)
class ThreadView:
    ticket: Row
    messages: list[Row]


def thread_view(conn: Connection, ticket_id: int, *, viewer_id: int | None,
                staff: bool) -> ThreadView | None:
    """One ticket as `viewer_id` may see it (staff: with internal notes), or None if there is
    no such ticket for them."""
    try:
        summary, messages = support.thread(conn, ticket_id, viewer_id=viewer_id, staff=staff)
    except support.SupportError:
        return None
    return ThreadView(ticket_row(summary, staff=staff), message_rows(messages))
