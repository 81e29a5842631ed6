"""Admin: one user (profile, verification, 2FA, sessions, login history, balances) and the
actions freeze / unfreeze, end all sessions, reset 2FA: each audited."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import admin as accounts_admin
from bitchange.accounts import api_keys
from bitchange.accounts.users import AccountError
from bitchange.ledger import account_for_user, balances_of
from bitchange.money import format_amount
from bitchange.pages.admin_users import admin_frame, gate
from bitchange.pages.security import when
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event
from bitchange.trading.markets import assets


class AdminUserState(rx.State):
    access: str = "unknown"
    found: bool = False
    profile: dict[str, str] = {}
    sessions: list[dict[str, str]] = []
    logins: list[dict[str, str]] = []
    balances: list[dict[str, str]] = []
    keys: list[dict[str, str]] = []  # the user's API keys
    notice: str = ""

    def _target(self) -> int:
        try:
            return int(self.router.url.query_parameters.get("id", ""))
        except ValueError:
            return -1

    def _deny(self) -> None:
        self.access, self.found, self.profile = "denied", False, {}
        self.sessions, self.logins, self.balances, self.keys = [], [], [], []

    def _load(self) -> None:
        with db.read() as conn:
            detail = accounts_admin.user_detail(conn, self._target())
            if detail is None:
                self.found = False
                return
            precisions = assets(conn)
            # Reading only: the ledger account exists for every user created by create_user.
            money = balances_of(conn, account_for_user(conn, detail.user.id))
            self.keys = api_keys.key_rows(conn, detail.user.id)
        u = detail.user
        self.found = True
        self.profile = {
            "id": str(u.id), "email": u.email, "role": "admin" if u.is_admin else "trader",
            "verified": "yes" if u.verified else "no", "tfa": "on" if u.two_factor else "off",
            "state": "frozen" if u.frozen else "active", "frozen_reason": detail.frozen_reason,
            "created": when(u.created_at),
        }
        self.sessions = [{"device": s.device, "ip": s.ip, "first": when(s.first_seen),
                          "last": when(s.last_seen)} for s in detail.sessions]
        self.logins = [{"time": when(r.created_at), "result": "success" if r.success else
                        r.reason, "ip": r.ip, "device": r.device} for r in detail.logins]
        self.balances = [
            {"asset": code, "available": format_amount(money.get(code, (0, 0))[0],
                                                       info.precision),
             "locked": format_amount(money.get(code, (0, 0))[1], info.precision)}
            for code, info in precisions.items()
        ]

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = ""
        user, redirect = gate(self, routes.ADMIN_USERS)
        if user is None:
            self._deny()
            return redirect
        self.access = "admin"
        self._load()
        return None

    def _act(self, action: str) -> None:
        admin = current_admin(self)
        if admin is None:
            self._deny()
            return
        target, ip = self._target(), client_ip(self)
        try:
            with db.write() as conn:
                if action == "freeze":
                    accounts_admin.freeze(conn, admin.user_id, target, ip=ip)
                elif action == "unfreeze":
                    accounts_admin.unfreeze(conn, admin.user_id, target, ip=ip)
                elif action == "end_sessions":
                    accounts_admin.end_sessions(conn, admin.user_id, target, ip=ip)
                elif action == "reset_2fa":
                    accounts_admin.reset_two_factor(conn, admin.user_id, target, ip=ip)
            self.notice = f"Done: {action.replace('_', ' ')}."
        except AccountError as exc:
            self.notice = str(exc)
        self._load()

    @event
    def revoke_api_key(self, key_id: str) -> None:
        """Support revokes one of the user's API keys (audited, the owner is told)."""
        admin = current_admin(self)
        if admin is None:
            self._deny()
            return
        number = int(key_id) if key_id.isascii() and key_id.isdigit() and len(key_id) <= 18 else 0
        try:
            with db.write() as conn:
                api_keys.admin_revoke(conn, admin.user_id, self._target(), number,
                                      ip=client_ip(self))
            self.notice = "Done: API key revoked."
        except api_keys.ApiKeyError as exc:
            self.notice = str(exc)
        self._load()

    @event
    def freeze(self) -> None:
        self._act("freeze")

    @event
    def unfreeze(self) -> None:
        self._act("unfreeze")

    @event
    def end_sessions(self) -> None:
        self._act("end_sessions")

    @event
    def reset_two_factor(self) -> None:
        self._act("reset_2fa")


def _table(headers: list[str], rows, keys: list[str], row_class: str) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
            *[rx.table.cell(r[k]) for k in keys], class_name=row_class))),
        width="100%", size="1",
    )


def admin_user() -> rx.Component:
    S = AdminUserState
    p = S.profile
    body = rx.cond(S.found, rx.vstack(
        rx.heading(p["email"], size="7", id="admin-user-email", overflow_wrap="anywhere"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="info", id="admin-user-notice")),
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
               "balance-row"),
        rx.heading("Active sessions", size="4", as_="h2"),
        _table(["Device", "IP", "First seen", "Last seen"], S.sessions,
               ["device", "ip", "first", "last"], "admin-session-row"),
        rx.heading("API keys", size="4", as_="h2"),
        rx.table.root(
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
        rx.heading("Login history", size="4", as_="h2"),
        _table(["Time", "Result", "IP", "Device"], S.logins, ["time", "result", "ip", "device"],
               "admin-login-row"),
        spacing="3", width="100%",
    ), rx.text("No such user.", id="admin-user-missing"))
    return admin_frame(S.access, body)
