"""Admin: one user and the actions freeze / unfreeze, end all sessions, reset 2FA: each audited
by the accounts service."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import admin as accounts_admin
from bitchange.accounts import admin_views, api_keys
from bitchange.accounts.users import AccountError
from bitchange.inputs import InputError, parse_id
from bitchange.state.admin import AdminPage
from bitchange.state.auth import client_ip
from bitchange.state.events import event


class AdminUserState(AdminPage, rx.State):
    found: bool = False
    profile: dict[str, str] = {}
    sessions: list[dict[str, str]] = []
    logins: list[dict[str, str]] = []
    balances: list[dict[str, str]] = []
    keys: list[dict[str, str]] = []  # the user's API keys
    notice: str = ""
    error: str = ""

    def _target(self) -> int:
        try:
            return parse_id(self.router.url.query_parameters.get("id"))
        except ValueError:
            return -1

    def _clear(self) -> None:
        self.found, self.profile = False, {}
        self.sessions, self.logins, self.balances, self.keys = [], [], [], []

    def _load(self) -> None:
        with db.read() as conn:
            view = admin_views.user_page(conn, self._target())
        if view is None:
            self.found = False
            return
        self.found = True
        self.profile, self.sessions = view.profile, view.sessions
        self.logins, self.balances, self.keys = view.logins, view.balances, view.keys

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user, redirect = self._open(routes.ADMIN_USERS)
        if user is None:
            return redirect
        self._load()
        return None

    def _act(self, action: str) -> None:
        admin = self._admin()
        if admin is None:
            return
        target, ip = self._target(), client_ip(self)
        self.notice = self.error = ""
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
            self.error = str(exc)
        self._load()

    @event
    def revoke_api_key(self, key_id: str) -> None:
        """Support revokes one of the user's API keys (audited, the owner is told)."""
        admin = self._admin()
        if admin is None:
            return
        self.notice = self.error = ""
        try:
            with db.write() as conn:
                api_keys.admin_revoke(conn, admin.user_id, self._target(),
                                      parse_id(key_id, "No such API key."), ip=client_ip(self))
            self.notice = "Done: API key revoked."
        except (api_keys.ApiKeyError, InputError) as exc:
            self.error = str(exc)
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
