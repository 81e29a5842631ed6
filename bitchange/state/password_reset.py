"""A forgotten password: ask for a reset link (the answer never says whether the email has an
account), then choose a new password with the token from the link."""

from __future__ import annotations

import reflex as rx

from bitchange import db
from bitchange.accounts import security
from bitchange.accounts.users import AccountError, repeated_password
from bitchange.state.auth import client_ip
from bitchange.state.events import event


class ForgotPasswordState(rx.State):
    message: str = ""

    @event
    def clear(self) -> None:
        self.message = ""

    @event
    def submit(self, form: dict) -> None:
        with db.write() as conn:
            self.message = security.request_reset(conn, str(form.get("email", "")),
                                                  ip=client_ip(self))


class ResetPasswordState(rx.State):
    # "checking" | "form" | "invalid" | "done"
    status: str = "checking"
    error: str = ""

    def _token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @event
    def load(self) -> None:
        self.error = ""
        with db.read() as conn:
            self.status = "form" if security.reset_token_valid(conn, self._token()) else "invalid"

    @event
    def submit(self, form: dict) -> None:
        try:
            password = repeated_password(form)
            with db.write() as conn:
                security.reset_password(conn, self._token(), password, ip=client_ip(self))
        except AccountError as exc:
            self.error = str(exc)
            return
        self.status, self.error = "done", ""
