"""The link in the reset email: choose a new password (the token stays in the URL)."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.card import card
from bitchange.state.password_reset import ResetPasswordState


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
