"""Create an account: email and password; the verification link arrives by email."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.accounts.users import MIN_PASSWORD_LENGTH
from bitchange.components.card import card
from bitchange.state.signup import SignupState


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
