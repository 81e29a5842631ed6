"""Create an account: email and password; the verification link arrives by email."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import security
from bitchange.accounts.users import MIN_PASSWORD_LENGTH, AccountError
from bitchange.components.shell import page
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
        password = str(form.get("password", ""))
        if password != str(form.get("confirm", "")):
            self.error = "The two passwords do not match."
            return
        try:
            with db.write() as conn:
                self.done = security.sign_up(conn, str(form.get("email", "")), password,
                                             ip=client_ip(self))
        except AccountError as exc:
            self.error = str(exc)
            return
        self.error = ""


def card(*children: rx.Component) -> rx.Component:
    return page(rx.center(rx.card(rx.vstack(*children, spacing="3", width="100%"),
                                  width="420px"), padding_y="3em"), max_width="640px")


def signup() -> rx.Component:
    return card(
        rx.heading("Create your account", size="6"),
        rx.cond(
            SignupState.done != "",
            rx.callout(SignupState.done, icon="mail-check", color_scheme="green",
                       id="signup-done"),
            rx.form(
                rx.vstack(
                    rx.text("Email", size="2"),
                    rx.input(name="email", type="email", id="signup-email", width="100%",
                             auto_complete="email"),
                    rx.text("Password", size="2"),
                    rx.input(name="password", type="password", id="signup-password",
                             width="100%", auto_complete="new-password"),
                    rx.text(f"At least {MIN_PASSWORD_LENGTH} characters; not your email, not a "
                            "common password.", size="1", color_scheme="gray"),
                    rx.text("Repeat the password", size="2"),
                    rx.input(name="confirm", type="password", id="signup-confirm",
                             width="100%", auto_complete="new-password"),
                    rx.cond(SignupState.error != "", rx.callout(
                        SignupState.error, icon="triangle-alert", color_scheme="red",
                        id="signup-error", width="100%")),
                    rx.button("Sign up", type="submit", width="100%", id="signup-submit"),
                    rx.link("Already have an account? Log in", href=routes.LOGIN, size="2"),
                    spacing="3", width="100%",
                ),
                on_submit=SignupState.submit, reset_on_submit=False,
            ),
        ),
    )
