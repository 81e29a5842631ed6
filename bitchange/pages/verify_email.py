"""The link in the verification email: confirms the address on load."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.card import link_done, link_page, link_refused
from bitchange.state.signup import VerifyEmailState


def verify_email() -> rx.Component:
    return link_page(
        "Email confirmation", VerifyEmailState.status,
        ("ok", link_done("Your email address is confirmed. You can now trade and withdraw.",
                         "verify-ok")),
        ("invalid", link_refused("This link is invalid, already used or expired. Log in and "
                                 "ask for a new one in the security centre.", "verify-bad")),
        back=rx.link("Go to the security centre", href=routes.SECURITY),
    )
