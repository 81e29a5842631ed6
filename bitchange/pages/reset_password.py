"""The link in the reset email: choose a new password (the token stays in the URL)."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.card import link_done, link_page, link_refused
from bitchange.state.password_reset import ResetPasswordState


def reset_password() -> rx.Component:
    return link_page(
        "Choose a new password", ResetPasswordState.status,
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
        ("done", link_done("Your password is changed and every session was ended. Log in "
                           "with the new password.", "reset-done")),
        ("invalid", link_refused("This reset link is invalid, used or expired.", "reset-bad")),
        back=rx.link("Log in", href=routes.LOGIN, size="2"),
    )
