"""Admin: the users list with search, and the frame every admin page shares."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state
from bitchange.components.shell import page
from bitchange.pages.admin import admin_nav
from bitchange.state.admin.users import AdminUsersState

ADMINS_ONLY = "Admins only (with two-factor authentication on)."


def admin_frame(access, body: rx.Component) -> rx.Component:  # type: ignore[no-untyped-def]
    return page(rx.match(
        access,
        ("admin", rx.vstack(admin_nav(), body, spacing="4", width="100%")),
        ("denied", rx.callout(ADMINS_ONLY, icon="shield-alert", color_scheme="red",
                              id="admin-denied")),
        rx.text("Checking access…", color_scheme="gray"),
    ))



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
