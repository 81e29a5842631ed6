"""Admin: one user (profile, verification, 2FA, sessions, login history, balances) and the
actions freeze / unfreeze, end all sessions, reset 2FA."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state
from bitchange.pages.admin_users import admin_frame
from bitchange.state.admin.user import AdminUserState


def _table(headers: list[str], rows, keys: list[str], row_class: str,  # type: ignore[no-untyped-def]
           empty: str) -> rx.Component:
    return rx.fragment(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
            *[rx.table.cell(r[k]) for k in keys], class_name=row_class))),
        width="100%", size="1",
    ), empty_state(rows, empty, id_=f"{row_class}-empty"))


def admin_user() -> rx.Component:
    S = AdminUserState
    p = S.profile
    body = rx.cond(S.found, rx.vstack(
        rx.heading(p["email"], size="7", id="admin-user-email", overflow_wrap="anywhere"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="info", id="admin-user-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="admin-user-error")),
        rx.hstack(
            rx.badge(p["role"]), rx.badge("verified: ", p["verified"]),
            rx.badge("2FA: ", p["tfa"], id="admin-user-tfa"),
            rx.badge(p["state"], color_scheme=rx.cond(p["state"] == "frozen", "red", "green"),
                     id="admin-user-state"),
            rx.text("since ", p["created"], size="2", color_scheme="gray"),
        ),
        rx.cond(p["frozen_reason"] != "", rx.text("Frozen: ", p["frozen_reason"], size="2")),
        rx.hstack(
            rx.cond(p["state"] == "frozen",
                    rx.button("Unfreeze", on_click=S.unfreeze, id="admin-unfreeze"),
                    rx.button("Freeze", color_scheme="red", on_click=S.freeze,
                              id="admin-freeze")),
            rx.button("End all sessions", variant="soft", on_click=S.end_sessions,
                      id="admin-end-sessions"),
            rx.button("Reset 2FA", variant="soft", color_scheme="amber",
                      on_click=S.reset_two_factor, id="admin-reset-2fa"),
            spacing="3",
        ),
        rx.heading("Balances", size="4", as_="h2"),
        _table(["Asset", "Available", "Locked"], S.balances, ["asset", "available", "locked"],
               "balance-row", "No assets listed."),
        rx.heading("Active sessions", size="4", as_="h2"),
        _table(["Device", "IP", "First seen", "Last seen"], S.sessions,
               ["device", "ip", "first", "last"], "admin-session-row",
               "No active sessions: the user is signed out everywhere."),
        rx.heading("API keys", size="4", as_="h2"),
        rx.fragment(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Label", "Kind", "Scopes", "Allowlist", "Last used", "Status", "")])),
            rx.table.body(rx.foreach(S.keys, lambda k: rx.table.row(
                *[rx.table.cell(k[c]) for c in ("label", "kind", "scopes", "allowlist",
                                                "last_used", "status")],
                rx.table.cell(rx.cond(k["status"] == "active", rx.button(
                    "Revoke", size="1", variant="ghost", color_scheme="red",
                    class_name="admin-key-revoke", on_click=S.revoke_api_key(k["id"])))),
                class_name="admin-key-row"))),
            width="100%", size="1"),
            empty_state(S.keys, "No API keys.", id_="admin-key-row-empty")),
        rx.heading("Login history", size="4", as_="h2"),
        _table(["Time", "Result", "IP", "Device"], S.logins, ["time", "result", "ip", "device"],
               "admin-login-row", "No logins recorded yet."),
        spacing="3", width="100%",
    ), rx.text("No such user.", id="admin-user-missing"))
    return admin_frame(S.access, body)
