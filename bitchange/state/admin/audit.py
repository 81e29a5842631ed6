"""Admin: the audit log of admin actions, filterable by action, admin and target."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import admin_views, audit
from bitchange.state.admin import AdminPage
from bitchange.state.events import event


class AdminAuditState(AdminPage, rx.State):
    rows: list[dict[str, str]] = []
    actions: list[str] = []
    action: str = ""
    admin: str = ""
    target: str = ""

    def _clear(self) -> None:
        self.rows = []

    def _search(self) -> None:
        with db.read() as conn:
            self.actions = audit.actions(conn)
            self.rows = admin_views.audit_rows(conn, action=self.action, admin_email=self.admin,
                                               target=self.target)

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = self._open(routes.ADMIN_AUDIT)
        if user is None:
            return redirect
        self._search()
        return None

    @event
    def filter(self, form: dict) -> None:
        if self._admin() is None:
            return
        action = str(form.get("action", ""))
        self.action = action[:64]
        self.admin = str(form.get("admin", ""))[:100]
        self.target = str(form.get("target", ""))[:100]
        self._search()
