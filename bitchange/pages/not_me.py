"""The "this wasn't me" link of a login alert: ends every session and freezes the account.

It acts on load (one click from the email). Link scanners that only fetch the page do not run
its script, so they do not trigger it; one that does would freeze the account, which fails safe.
"""

from __future__ import annotations

import reflex as rx

from bitchange.components.card import card
from bitchange.state.security import NotMeState


def not_me() -> rx.Component:
    return card(
        rx.heading("Secure my account", size="6"),
        rx.match(
            NotMeState.status,
            ("ok", rx.callout("Done: every session is ended and your account is frozen. "
                              "Nobody can log in or withdraw until support unfreezes it. "
                              "Contact support to continue.", icon="shield-check",
                              color_scheme="green", id="not-me-ok")),
            ("invalid", rx.callout("This link is invalid, used or expired. If you think "
                                   "someone else is in your account, contact support now.",
                                   icon="triangle-alert", color_scheme="red", id="not-me-bad")),
            rx.text("Securing your account…"),
        ),
    )
