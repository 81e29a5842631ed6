"""Promo codes for users: redeem a code, see what you redeemed."""

from __future__ import annotations

import reflex as rx

from bitchange.components.lists import messages, table
from bitchange.components.shell import page
from bitchange.state.promos import PromosState


def promos_page() -> rx.Component:
    S = PromosState
    body = rx.vstack(
        rx.heading("Promo codes", size="7"),
        rx.form(rx.hstack(
            rx.input(name="code", placeholder="Enter a code", id="promo-code", width="240px"),
            rx.button("Redeem", type="submit", id="promo-submit"),
        ), on_submit=S.redeem, reset_on_submit=True),
        messages(S.notice, S.error, id_="promo"),
        rx.heading("Redeemed", size="4"),
        rx.box(table(["Code", "Reward", "When"], S.history,
                     lambda r: [r["code"], rx.text(r["amount"], " ", r["asset"]), r["time"]],
                     "promo-row", "promo-history",
                     empty=("You have not redeemed a code yet.",
                            "Enter a promo code above to add its reward to your balance.")),
               width="100%", max_width="640px"),
        spacing="4", width="100%",
    )
    return page(rx.cond(S.access == "ok", body, rx.text("Loading…", color_scheme="gray")))
