"""Ask for a password reset link. The answer never says whether the email has an account."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.card import card
from bitchange.state.password_reset import ForgotPasswordState


def forgot_password() -> rx.Component:
    return card(
        rx.heading("Reset your password", size="6"),
        rx.form(
            rx.vstack(
                rx.text("Email", size="2"),
                rx.input(name="email", type="email", id="forgot-email", width="100%"),
                rx.button("Email me a reset link", type="submit", width="100%",
                          id="forgot-submit"),
                spacing="3", width="100%",
            ),
            on_submit=ForgotPasswordState.submit, reset_on_submit=False,
        ),
        rx.cond(ForgotPasswordState.message != "", rx.callout(
            ForgotPasswordState.message, icon="mail", id="forgot-message")),
        rx.link("Back to log in", href=routes.LOGIN, size="2"),
    )
