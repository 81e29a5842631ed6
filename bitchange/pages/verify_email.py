"""The link in the verification email: confirms the address on load."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.card import card
from bitchange.state.signup import VerifyEmailState


def verify_email() -> rx.Component:
    return card(
        rx.heading("Email confirmation", size="6"),
        rx.match(
            VerifyEmailState.status,
            ("ok", rx.callout("Your email address is confirmed. You can now trade and "
                              "withdraw.", icon="circle-check", color_scheme="green",
                              id="verify-ok")),
            ("invalid", rx.callout("This link is invalid, already used or expired. Log in and "
                                   "ask for a new one in the security centre.",
                                   icon="triangle-alert", color_scheme="red", id="verify-bad")),
            rx.text("Checking your link…"),
        ),
        rx.link("Go to the security centre", href=routes.SECURITY),
    )
