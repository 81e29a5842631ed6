"""Admin: the support queue (filters: status, category, age) and one ticket with replies (with
an optional attachment, under the users' rules), internal notes, status and priority. Every
handler re-checks the admin; the service writes the audit log."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts.sessions import CurrentUser
from bitchange.state.admin import AdminPage
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event
from bitchange.state.support import Attachment, ticket_id
from bitchange.support import service as support
from bitchange.support import views


class AdminSupportState(AdminPage, rx.State):
    tickets: list[dict[str, str]] = []
    status: str = ""
    category: str = ""
    age: str = ""

    def _clear(self) -> None:
        self.tickets = []

    def _refresh(self) -> None:
        with db.read() as conn:
            self.tickets = views.queue_rows(conn, status=self.status, category=self.category,
                                            age=self.age)

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = self._open(routes.ADMIN_SUPPORT)
        if user is None:
            return redirect
        self._refresh()
        return None

    @event
    def filter(self, form: dict) -> None:
        if self._admin() is None:
            return
        status, category, age = (str(form.get(k, "")) for k in ("status", "category", "age"))
        self.status = status if status in support.STATUSES or status == "all" else ""
        self.category = category if category in support.CATEGORIES else ""
        self.age = age if age in support.AGES else ""
        self._refresh()


class AdminTicketState(Attachment, AdminPage, rx.State):
    ticket: dict[str, str] = {}
    messages: list[dict[str, str]] = []
    notice: str = ""
    error: str = ""

    def _uploader(self) -> CurrentUser | None:
        return current_admin(self)

    def _clear(self) -> None:
        self.ticket, self.messages = {}, []

    def _refresh(self) -> None:
        with db.read() as conn:
            view = views.thread_view(conn, ticket_id(self), viewer_id=None, staff=True)
        if view is None:
            self.ticket, self.messages = {}, []
            return
        self.ticket, self.messages = view.ticket, view.messages

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        self._forget_attachment()
        user, redirect = self._open(routes.ADMIN_SUPPORT)
        if user is None:
            return redirect
        self._refresh()
        return None

    def _act(self, action) -> bool:  # type: ignore[no-untyped-def]
        admin = self._admin()
        if admin is None:
            return False
        self.notice = self.error = ""
        done = False
        try:
            with db.write() as conn:
                self.notice = action(conn, admin.user_id, ticket_id(self), client_ip(self))
            done = True
        except support.SupportError as exc:
            self.error = str(exc)
        self._refresh()
        return done

    @event
    def reply(self, form: dict) -> None:
        internal = str(form.get("internal", "")) in ("on", "true", "1")
        body = str(form.get("body", ""))[:support.MAX_BODY + 1]
        if self._admin() is None:
            return
        self.notice = self.error = ""
        if self._attachment_refused():
            return
        attachment_id = self._attachment_id

        def act(conn, admin_id, target, ip) -> str:  # type: ignore[no-untyped-def]
            support.staff_reply(conn, admin_id, target, body, internal=internal, ip=ip,
                                attachment_id=attachment_id)
            return "Internal note added." if internal else "Reply sent; the user was emailed."

        if self._act(act):
            self._attachment_id, self.attachment_name = None, ""

    @event
    def set_status(self, status: str) -> None:
        def act(conn, admin_id, target, ip) -> str:  # type: ignore[no-untyped-def]
            support.set_status(conn, admin_id, target, status, ip=ip)
            return "Status changed."

        self._act(act)

    @event
    def set_priority(self, priority: str) -> None:
        def act(conn, admin_id, target, ip) -> str:  # type: ignore[no-untyped-def]
            support.set_priority(conn, admin_id, target, priority, ip=ip)
            return "Priority changed."

        self._act(act)
