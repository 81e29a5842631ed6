"""Staking: open products, the user's positions with the rewards paid so far, stake and
redeem. The user comes from the session cookie; a position id from the page is only ever used
together with that user's id."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state
from bitchange.components.lists import messages, table
from bitchange.components.shell import page
from bitchange.state.staking import StakingState


def _product_card(p) -> rx.Component:  # type: ignore[no-untyped-def]
    S = StakingState
    return rx.card(rx.vstack(
        rx.hstack(rx.heading(p["name"], size="4"), rx.badge(p["asset"]),
                  rx.badge(p["apr"] + " APR", color_scheme="green"), rx.badge(p["lock"])),
        rx.text("Min ", p["min"], " · max per user ", p["max"], " · capacity left ", p["left"],
                size="1", color_scheme="gray"),
        rx.text("Available: ", p["available"], " ", p["asset"], size="2"),
        rx.cond(p["rewards"] != "", rx.text(p["rewards"], size="1", color_scheme="amber")),
        rx.form(rx.hstack(
            rx.el.input(type="hidden", name="product_id", value=p["id"]),
            rx.input(name="amount", placeholder="Amount", class_name="stake-amount"),
            rx.button("Stake", type="submit", class_name="stake-submit"),
        ), on_submit=S.stake, reset_on_submit=True),
        spacing="2",
    ), class_name="staking-product", width="340px")


def staking_page() -> rx.Component:
    S = StakingState
    positions = table(
        ["Product", "Amount", "APR", "Since", "Unlocks", "Rewards paid", "Status", ""],
        S.positions,
        lambda v: [v["product"], rx.text(v["amount"], " ", v["asset"]), v["apr"], v["started"],
                   v["unlocks"],
                   rx.fragment(rx.text(v["reward"], " ", v["asset"], class_name="position-reward"),
                               rx.cond(v["rewards_note"] != "",
                                       rx.text(v["rewards_note"], size="1",
                                               color_scheme="amber"))),
                   rx.badge(v["status"]),
                   rx.cond(v["status"] == "active", rx.button(
                       "Redeem", size="1", variant="soft", class_name="position-redeem",
                       on_click=S.redeem(v["id"])))],
        "position-row", "staking-positions",
        empty=("You have no staking positions.",
               "Stake an amount in one of the products above to earn daily rewards."))
    body = rx.vstack(
        rx.heading("Staking", size="7"),
        rx.text("Rewards accrue per full UTC day held, are paid daily into your available "
                "balance, and are rounded down to the asset's smallest unit.", size="2",
                color_scheme="gray"),
        messages(S.notice, S.error, id_="staking"),
        rx.hstack(rx.foreach(S.products, _product_card), wrap="wrap", spacing="3"),
        empty_state(S.products, "No staking products are open right now.",
                    "Products appear here when the exchange opens them; check back later.",
                    id_="staking-products-empty"),
        rx.heading("Your positions", size="5"),
        positions,
        spacing="4", width="100%",
    )
    return page(rx.cond(S.access == "ok", body, rx.text("Loading…", color_scheme="gray")))
