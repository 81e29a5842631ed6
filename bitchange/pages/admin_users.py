"""Admin: the users list with search."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import admin as accounts_admin
from bitchange.components.empty import empty_state
from bitchange.components.shell import page
from bitchange.pages.admin import admin_nav
from bitchange.state.auth import current_admin, current_user, navigate
from bitchange.state.events import event

ADMINS_ONLY = "Admins only (with two-factor authentication on)."


def admin_frame(access, body: rx.Component) -> rx.Component:  # type: ignore[no-untyped-def]
    return page(rx.match(
        access,
        ("admin", rx.vstack(admin_nav(), body, spacing="4", width="100%")),
        ("denied", rx.callout(ADMINS_ONLY, icon="shield-alert", color_scheme="red",
                              id="admin-denied")),
        rx.text("Checking access…", color_scheme="gray"),
    ))


def gate(state: rx.State, back_to: str) -> tuple[object | None, rx.event.EventSpec | None]:
    """(admin user, None) or (None, where to send the visitor: the login page if anonymous)."""
    user = current_admin(state)
    if user is not None:
        return user, None
    return None, navigate(routes.login(back_to)) if current_user(state) is None else None


class AdminUsersState(rx.State):
    access: str = "unknown"
    query: str = ""
    total: int = 0
    rows: list[dict[str, str]] = []

    def _search(self) -> None:
        with db.read() as conn:
            users = accounts_admin.search_users(conn, self.query)
            self.total = accounts_admin.count_users(conn)
        self.rows = [{"id": str(u.id), "email": u.email, "href": routes.admin_user(u.id),
                      "role": "admin" if u.is_admin else "trader",
                      "verified": "yes" if u.verified else "no",
                      "tfa": "on" if u.two_factor else "off",
                      "state": "frozen" if u.frozen else "active"} for u in users]

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = gate(self, routes.ADMIN_USERS)
        if user is None:
            self.access, self.rows = "denied", []
            return redirect
        self.access = "admin"
        self._search()
        return None

    @event
    def search(self, form: dict) -> None:
        if current_admin(self) is None:
            self.access, self.rows = "denied", []
            return
        self.query = str(form.get("q", ""))[:100]
        self._search()


def admin_users() -> rx.Component:
    S = AdminUsersState
    return admin_frame(S.access, rx.vstack(
        rx.heading("Users", size="7"),
        rx.form(rx.hstack(rx.input(name="q", placeholder="Search by email or id",
                                   id="user-search", width="320px"),
                          rx.button("Search", type="submit", id="user-search-submit")),
                on_submit=S.search, reset_on_submit=False),
        rx.text(S.total, " users in total", size="2", color_scheme="gray"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ["Id", "Email", "Role", "Verified", "2FA", "State"]])),
            rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                rx.table.cell(r["id"]),
                rx.table.cell(rx.link(r["email"], href=r["href"])),
                rx.table.cell(r["role"]), rx.table.cell(r["verified"]),
                rx.table.cell(r["tfa"]), rx.table.cell(r["state"]),
                class_name="user-row"))),
            width="100%", id="users-table",
        ),
        empty_state(S.rows, "No users match.", "Search by email or user id.",
                    id_="users-empty"),
        spacing="3", width="100%",
    ))
