"""The link in the verification email: confirms the address on load."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import security
from bitchange.pages.signup import card
from bitchange.state.events import event


class VerifyEmailState(rx.State):
    # "checking" | "ok" | "invalid"
    status: str = "checking"

    @event
    def load(self) -> None:
        token = self.router.url.query_parameters.get("token", "")
        with db.write() as conn:
            self.status = "ok" if security.verify_email(conn, token) else "invalid"


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
