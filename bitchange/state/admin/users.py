"""Admin: the users list with search."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import admin as accounts_admin
from bitchange.accounts import admin_views
from bitchange.state.admin import AdminPage
from bitchange.state.events import event


class AdminUsersState(AdminPage, rx.State):
    query: str = ""
    total: int = 0
    rows: list[dict[str, str]] = []

    def _clear(self) -> None:
        self.rows = []

    def _search(self) -> None:
        with db.read() as conn:
            self.rows = admin_views.user_rows(conn, self.query)
            self.total = accounts_admin.count_users(conn)

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = self._open(routes.ADMIN_USERS)
        if user is None:
            return redirect
        self._search()
        return None

    @event
    def search(self, form: dict) -> None:
        if self._admin() is None:
            return
        self.query = str(form.get("q", ""))[:100]
        self._search()
