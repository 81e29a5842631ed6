"""Admin: the audit log of admin actions, filterable by action, admin and target."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import admin_views, audit
from bitchange.state.admin import gate
from bitchange.state.auth import current_admin
from bitchange.state.events import event


class AdminAuditState(rx.State):
    access: str = "unknown"
    rows: list[dict[str, str]] = []
    actions: list[str] = []
    action: str = ""
    admin: str = ""
    target: str = ""

    def _search(self) -> None:
        with db.read() as conn:
            self.actions = audit.actions(conn)
            self.rows = admin_views.audit_rows(conn, action=self.action, admin_email=self.admin,
                                               target=self.target)

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = gate(self, routes.ADMIN_AUDIT)
        if user is None:
            self.access, self.rows = "denied", []
            return redirect
        self.access = "admin"
        self._search()
        return None

    @event
    def filter(self, form: dict) -> None:
        if current_admin(self) is None:
            self.access, self.rows = "denied", []
            return
        action = str(form.get("action", ""))
        self.action = action[:64]
        self.admin = str(form.get("admin", ""))[:100]
        self.target = str(form.get("target", ""))[:100]
        self._search()
