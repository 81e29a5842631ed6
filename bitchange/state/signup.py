"""Signing up and confirming the email address with the link that sign-up sends."""

from __future__ import annotations

import reflex as rx

from bitchange import db
from bitchange.accounts import security
from bitchange.accounts.users import AccountError, repeated_password
from bitchange.state.auth import client_ip
from bitchange.state.events import event


class SignupState(rx.State):
    error: str = ""
    done: str = ""

    @event
    def clear(self) -> None:
        self.error = self.done = ""

    @event
    def submit(self, form: dict) -> None:
        try:
            password = repeated_password(form)
            with db.write() as conn:
                self.done = security.sign_up(conn, str(form.get("email", "")), password,
                                             ip=client_ip(self))
        except AccountError as exc:
            self.error = str(exc)
            return
        self.error = ""


class VerifyEmailState(rx.State):
    # "checking" | "ok" | "invalid"
    status: str = "checking"

    @event
    def load(self) -> None:
        token = self.router.url.query_parameters.get("token", "")
        with db.write() as conn:
            self.status = "ok" if security.verify_email(conn, token) else "invalid"
