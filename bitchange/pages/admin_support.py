"""Admin: the support queue (filters: status, category, age) and one ticket with replies,
internal notes, status and priority. Every handler re-checks the admin; the service writes
the audit log."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.components.empty import empty_state
from bitchange.inputs import parse_id
from bitchange.pages.admin_users import admin_frame, gate
from bitchange.pages.support import _ticket_row, conversation, message_rows
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event
from bitchange.support import service as support

STATUS_OPTIONS = [["", "Not closed"], ["all", "Any status"]] + [
    [k, v.replace("you", "user")] for k, v in support.STATUSES.items()]
AGE_OPTIONS = [["", "Any age"], ["1d", "Older than 1 day"], ["3d", "Older than 3 days"],
               ["7d", "Older than 7 days"]]


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


def _select(name: str, options: list[list[str]], element_id: str) -> rx.Component:
    return rx.el.select(*[rx.el.option(label, value=value) for value, label in options],
                        name=name, id=element_id)


def admin_support() -> rx.Component:
    S = AdminSupportState
    return admin_frame(S.access, rx.vstack(
        rx.heading("Support queue", size="7"),
        rx.form(rx.hstack(
            _select("status", STATUS_OPTIONS, "queue-status"),
            _select("category", [["", "Any category"]] + [[k, v] for k, v in
                                                          support.CATEGORIES.items()],
                    "queue-category"),
            _select("age", AGE_OPTIONS, "queue-age"),
            rx.button("Filter", type="submit", id="queue-filter"),
            wrap="wrap",
        ), on_submit=S.filter, reset_on_submit=False),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
                "#", "Subject", "User", "Category", "Priority", "Status", "Opened",
                "Updated"]])),
            rx.table.body(rx.foreach(S.tickets, lambda t: rx.table.row(
                rx.table.cell(t["id"]), rx.table.cell(rx.link(t["subject"], href=t["href"])),
                rx.table.cell(t["email"]), rx.table.cell(t["category"]),
                rx.table.cell(rx.badge(t["priority"], color_scheme=rx.match(
                    t["priority"], ("urgent", "red"), ("high", "orange"), "gray"))),
                rx.table.cell(rx.badge(t["status"])), rx.table.cell(t["created"]),
                rx.table.cell(t["updated"]), class_name="queue-row"))),
            width="100%", size="1", id="support-queue",
        ),
        empty_state(S.tickets, "No tickets match.",
                    "Change the status, category or age filters to see other tickets.",
                    id_="support-queue-empty"),
        spacing="3", width="100%",
    ))


def admin_support_ticket() -> rx.Component:
    S = AdminTicketState
    t = S.ticket
    status_buttons = [rx.button(label, size="1", variant="soft",
                                on_click=S.set_status(value), id=f"status-{value}")
                      for value, label in support.STATUSES.items()]
    priority_buttons = [rx.button(p, size="1", variant="outline", on_click=S.set_priority(p),
                                  id=f"priority-{p}") for p in support.PRIORITIES]
    body = rx.cond(t.contains("id"), rx.vstack(
        rx.link("← Queue", href=routes.ADMIN_SUPPORT),
        rx.heading("#", t["id"], " ", t["subject"], size="6", id="staff-ticket-title"),
        rx.hstack(rx.text(t["email"]), rx.badge(t["category"]),
                  rx.badge(t["status"], id="staff-ticket-status"),
                  rx.badge(t["priority"], id="staff-ticket-priority"), wrap="wrap"),
        rx.hstack(rx.text("Status:", size="2"), *status_buttons, wrap="wrap"),
        rx.hstack(rx.text("Priority:", size="2"), *priority_buttons, wrap="wrap"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="check", id="staff-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="staff-error")),
        conversation(S.messages, staff=True),
        rx.form(rx.vstack(
            rx.text_area(name="body", placeholder="Reply to the user, or an internal note",
                         id="staff-body", width="100%", rows="4"),
            rx.hstack(rx.checkbox(name="internal", id="staff-internal"),
                      rx.text("Internal note (the user never sees it)", size="2")),
            rx.button("Send", type="submit", id="staff-send"),
            width="100%",
        ), on_submit=S.reply, reset_on_submit=True),
        spacing="3", width="100%", max_width="860px",
    ), rx.text("No such ticket.", color_scheme="gray"))
    return admin_frame(S.access, body)
