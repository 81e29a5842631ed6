"""Admin: the support queue (filters: status, category, age) and one ticket with replies,
internal notes, status and priority. Every handler re-checks the admin; the service writes
the audit log."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.inputs import parse_id

# The ticket and message rows are built where the traders' support page builds them (one copy).
from bitchange.pages.support import _ticket_row, message_rows
from bitchange.state.admin import gate
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event
from bitchange.support import service as support


class AdminSupportState(rx.State):
    access: str = "unknown"
    tickets: list[dict[str, str]] = []
    status: str = ""
    category: str = ""
    age: str = ""

    def _refresh(self) -> None:
        with db.read() as conn:
            self.tickets = [_ticket_row(t, staff=True) for t in support.queue(
                conn, status=self.status, category=self.category, age=self.age)]

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = gate(self, routes.ADMIN_SUPPORT)
        if user is None:
            self.access, self.tickets = "denied", []
            return redirect
        self.access = "admin"
        self._refresh()
        return None

    @event
    def filter(self, form: dict) -> None:
        if current_admin(self) is None:
            self.access, self.tickets = "denied", []
            return
        status, category, age = (str(form.get(k, "")) for k in ("status", "category", "age"))
        self.status = status if status in support.STATUSES or status == "all" else ""
        self.category = category if category in support.CATEGORIES else ""
        self.age = age if age in support.AGES else ""
        self._refresh()


class AdminTicketState(rx.State):
    access: str = "unknown"
    ticket: dict[str, str] = {}
    messages: list[dict[str, str]] = []
    notice: str = ""
    error: str = ""

    def _ticket_id(self) -> int:
        try:
            return parse_id(self.router.url.query_parameters.get("id"))
        except ValueError:
            return -1

    def _refresh(self) -> None:
        try:
            with db.read() as conn:
                summary, messages = support.thread(conn, self._ticket_id(), viewer_id=None,
                                                   staff=True)
        except support.SupportError:
            self.ticket, self.messages = {}, []
            return
        self.ticket = _ticket_row(summary, staff=True)
        self.messages = message_rows(messages)

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user, redirect = gate(self, routes.ADMIN_SUPPORT)
        if user is None:
            self.access, self.ticket, self.messages = "denied", {}, []
            return redirect
        self.access = "admin"
        self._refresh()
        return None

    def _act(self, action) -> None:  # type: ignore[no-untyped-def]
        admin = current_admin(self)
        if admin is None:
            self.access, self.ticket, self.messages = "denied", {}, []
            return
        self.notice = self.error = ""
        try:
            with db.write() as conn:
                self.notice = action(conn, admin.user_id, self._ticket_id(), client_ip(self))
        except support.SupportError as exc:
            self.error = str(exc)
        self._refresh()

    @event
    def reply(self, form: dict) -> None:
        internal = str(form.get("internal", "")) in ("on", "true", "1")
        body = str(form.get("body", ""))[:support.MAX_BODY + 1]

        def act(conn, admin_id, ticket_id, ip) -> str:  # type: ignore[no-untyped-def]
            support.staff_reply(conn, admin_id, ticket_id, body, internal=internal, ip=ip)
            return "Internal note added." if internal else "Reply sent; the user was emailed."

        self._act(act)

    @event
    def set_status(self, status: str) -> None:
        def act(conn, admin_id, ticket_id, ip) -> str:  # type: ignore[no-untyped-def]
            support.set_status(conn, admin_id, ticket_id, status, ip=ip)
            return "Status changed."

        self._act(act)

    @event
    def set_priority(self, priority: str) -> None:
        def act(conn, admin_id, ticket_id, ip) -> str:  # type: ignore[no-untyped-def]
            support.set_priority(conn, admin_id, ticket_id, priority, ip=ip)
            return "Priority changed."

        self._act(act)
