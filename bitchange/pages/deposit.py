"""Deposit: the user's address for an asset, with a QR code and a copy button (or a button to
get one, should its assignment on the first visit have failed), or why deposits of that asset
are unavailable; and the user's recent deposits."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.lists import messages, table
from bitchange.components.wallet_frame import asset_tabs, frame
from bitchange.state.deposit import DepositState


def deposit_page() -> rx.Component:
    S = DepositState
    address_card = rx.cond(
        S.address != "",
        rx.card(rx.vstack(
            rx.text("Send only ", S.asset, " on the ", S.network, " network to this address:",
                    size="2"),
            rx.image(src=S.qr, width="200px", height="200px", alt="Deposit address QR code",
                     background_color="white", padding="8px", id="deposit-qr"),
            rx.hstack(rx.code(S.address, id="deposit-address", size="3", overflow_wrap="anywhere"),
                      rx.button(rx.icon("copy", size=14), "Copy", size="1", variant="soft",
                                on_click=[rx.set_clipboard(S.address),
                                          rx.toast("Address copied")],
                                id="deposit-copy"),
                      align="center", wrap="wrap"),
            rx.text("Deposits are credited after ", S.confirmations,
                    " network confirmations. You will get an email.", size="1",
                    color_scheme="gray"),
            spacing="3",
        )),
        rx.cond(S.available,
                rx.button("Get address", on_click=S.assign_address, id="deposit-get-address"),
                rx.callout(S.reason, icon="circle-slash", color_scheme="amber",
                           id="deposit-unavailable")),
    )
    return frame(S.access, rx.vstack(
        rx.heading("Deposit ", S.asset, size="7"),
        asset_tabs(S.asset, S.assets, routes.DEPOSIT),
        messages("", S.error),
        address_card,
        rx.heading("Recent deposits", size="4", as_="h2"),
        table(["Time", "Amount", "Status", "Transaction"], S.rows,
              lambda r: [r["time"], r["amount"], r["status"], rx.code(r["detail"], size="1")],
              "deposit-row", "deposits-table",
              empty=("No deposits yet.", "Send funds to the address above: each deposit shows "
                     "here, and is credited once it has enough confirmations.")),
        spacing="4", width="100%",
    ))
