"""The link in the reset email: choose a new password (the token stays in the URL)."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import security
from bitchange.accounts.users import AccountError
from bitchange.pages.signup import card
from bitchange.state.events import event


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
        password = str(form.get("password", ""))
        if password != str(form.get("confirm", "")):
            self.error = "The two passwords do not match."
            return
        try:
            with db.write() as conn:
                security.reset_password(conn, self._token(), password)
        except AccountError as exc:
            self.error = str(exc)
            return
        self.status, self.error = "done", ""


def reset_password() -> rx.Component:
    return card(
        rx.heading("Choose a new password", size="6"),
        rx.match(
            ResetPasswordState.status,
            ("form", rx.form(
                rx.vstack(
                    rx.text("New password", size="2"),
                    rx.input(name="password", type="password", id="reset-password",
                             width="100%", auto_complete="new-password"),
                    rx.text("Repeat it", size="2"),
                    rx.input(name="confirm", type="password", id="reset-confirm",
                             width="100%", auto_complete="new-password"),
                    rx.cond(ResetPasswordState.error != "", rx.callout(
                        ResetPasswordState.error, icon="triangle-alert", color_scheme="red",
                        id="reset-error", width="100%")),
                    rx.button("Set password", type="submit", width="100%", id="reset-submit"),
                    spacing="3", width="100%",
                ),
                on_submit=ResetPasswordState.submit, reset_on_submit=False,
            )),
            ("done", rx.callout("Your password is changed and every session was ended. Log in "
                                "with the new password.", icon="circle-check",
                                color_scheme="green", id="reset-done")),
            ("invalid", rx.callout("This reset link is invalid, used or expired.",
                                   icon="triangle-alert", color_scheme="red", id="reset-bad")),
            rx.text("Checking your link…"),
        ),
        rx.link("Log in", href=routes.LOGIN, size="2"),
    )
