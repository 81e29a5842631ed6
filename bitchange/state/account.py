"""The account page (change the email address, download my data, close the account) and the
link that confirms a new address. Every handler resolves the user from the session cookie."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import email_change
from bitchange.accounts.sessions import CurrentUser
from bitchange.accounts.users import AccountError
from bitchange.privacy import service as privacy
from bitchange.state.auth import navigate
from bitchange.state.events import event
from bitchange.state.page import AccountPage, reauth_form


class AccountState(AccountPage, rx.State):
    email: str = ""
    pending_email: str = ""
    remains: list[str] = []  # what stops the account from being closed now

    def _forget(self) -> None:
        self.remains = []

    def _refresh(self, user: CurrentUser) -> None:
        with db.read() as conn:
            self.pending_email = email_change.pending_address(conn, user.user_id)
            self.remains = privacy.what_remains(conn, user.user_id)
        self.access, self.email = "ok", user.email

    @event
    def load(self) -> rx.event.EventSpec | None:
        return self._load(routes.ACCOUNT)

    @event
    def change_email(self, form: dict) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                message = email_change.request(
                    conn, user.user_id, str(form.get("email", "")), *reauth_form(form),
                    session_id=user.session_id)
        except AccountError as exc:
            self._done(user, error=str(exc))
            return
        self._done(user, notice=message)

    @event
    def close_account(self, form: dict) -> rx.event.EventSpec | None:
        user = self._user()
        if user is None:
            return None
        if str(form.get("confirm", "")).strip().upper() != "CLOSE":
            self._done(user, error="Type CLOSE to confirm.")
            return None
        try:
            with db.write() as conn:
                privacy.close_account(conn, user.user_id, *reauth_form(form))
        except AccountError as exc:
            self._done(user, error=str(exc))
            return None
        return navigate(routes.AUTH_LOGOUT)


class ConfirmEmailChangeState(rx.State):
    status: str = "checking"  # checking | ok | invalid

    @event
    def load(self) -> None:
        # Acts on load, like the verification link: following it is the confirmation.
        token = self.router.url.query_parameters.get("token", "")
        with db.write() as conn:
            self.status = "ok" if email_change.confirm(conn, token) else "invalid"
