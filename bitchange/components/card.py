"""The narrow centred card of the sign-up, login and email-link pages."""

from __future__ import annotations

import reflex as rx

from bitchange.components.shell import page


def card(*children: rx.Component) -> rx.Component:
    return page(rx.center(rx.card(rx.vstack(*children, spacing="3", width="100%"),
                                  width="420px"), padding_y="3em"), max_width="640px")
