"""The narrow centred card of the sign-up, login and email-link pages, and the page an emailed
link opens."""

from __future__ import annotations

import reflex as rx

from bitchange.components.shell import page


def card(*children: rx.Component) -> rx.Component:
    return page(rx.center(rx.card(rx.vstack(*children, spacing="3", width="100%"),
                                  width="420px"), padding_y="3em"), max_width="640px")


def link_page(heading: str, status, *cases, back: rx.Component) -> rx.Component:  # type: ignore[no-untyped-def]
    """The page an emailed link opens: `cases` are `rx.match` cases on `status` (the page says
    it is checking the link until the server has answered), then `back`, where to go next."""
    return card(rx.heading(heading, size="6"),
                rx.match(status, *cases, rx.text("Checking your link…")), back)


def link_done(text: str, id_: str) -> rx.Component:
    """What a link did, when it worked."""
    return rx.callout(text, icon="circle-check", color_scheme="green", id=id_)


def link_refused(text: str, id_: str) -> rx.Component:
    """Why a link did nothing (invalid, used, expired...)."""
    return rx.callout(text, icon="triangle-alert", color_scheme="red", id=id_)
