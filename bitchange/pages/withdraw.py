"""Withdraw: the address book (add, confirm by email, hold), the request form (address, amount,
fee, 2FA code), and the user's withdrawals with their status; plus the two pages the emailed
links open. The links act only when the button is pressed, never on load (mail scanners follow
links)."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.card import link_done, link_page, link_refused
from bitchange.components.lists import messages, table
from bitchange.components.passkeys import passkey_button
from bitchange.components.wallet_frame import asset_tabs, frame
from bitchange.state.withdraw import AddressConfirmState, WithdrawConfirmState, WithdrawState


def _book_card() -> rx.Component:
    S = WithdrawState
    return rx.card(rx.vstack(
        rx.heading("Address book", size="4", as_="h2"),
        table(["Label", "Address", "Added", "State", ""], S.book,
              lambda r: [r["label"], rx.code(r["address"], size="1"), r["added"],
                         rx.text(r["state"], class_name="book-state"),
                         rx.button("Remove", size="1", variant="ghost", color_scheme="red",
                                   on_click=S.remove_address(r["id"]))],
              "book-row", "book-table",
              empty=("No saved addresses.", "Add one below: you can withdraw to it once it "
                     "is confirmed from the email and its security hold has passed.")),
        rx.form(rx.hstack(
            rx.input(name="address", placeholder=S.asset + " address", id="book-address",
                     width="420px"),
            rx.input(name="label", placeholder="Label (optional)", id="book-label",
                     width="180px"),
            rx.button("Add address", type="submit", id="book-add"),
            spacing="2", wrap="wrap",
        ), on_submit=S.add_address, key=S.book_form),
        rx.text("New addresses must be confirmed from an email and then wait out a security "
                "hold before they can be used.", size="1", color_scheme="gray"),
        spacing="3", width="100%",
    ), width="100%")


def _request_card() -> rx.Component:
    S = WithdrawState
    return rx.card(rx.form(rx.vstack(
        rx.heading("Request a withdrawal", size="4", as_="h2"),
        rx.cond(S.paused != "", rx.callout(S.paused, icon="pause", color_scheme="amber",
                                           id="withdraw-paused")),
        rx.text("Available: ", S.available, " ", S.asset, size="2", id="withdraw-available"),
        rx.el.select(rx.el.option("Choose an address…", value=""),
                     rx.foreach(S.ready, lambda a: rx.el.option(a["text"], value=a["id"])),
                     name="address_id", id="withdraw-address"),
        rx.input(name="amount", placeholder="Amount", id="withdraw-amount", width="240px"),
        rx.text("Network fee ", S.fee, " ", S.asset, " (deducted from the amount) · minimum ",
                S.minimum, " ", S.asset, " · ", S.limit, size="1", color_scheme="gray"),
        rx.hstack(
            rx.input(name="code", placeholder="2FA code", id="withdraw-code", width="160px",
                     auto_complete="one-time-code"),
            passkey_button(S, "withdraw-passkey"),
            spacing="2",
        ),
        rx.button("Withdraw", type="submit", id="withdraw-submit"),
        spacing="2",
    ), on_submit=S.request, key=S.request_form), width="100%")


def withdraw_page() -> rx.Component:
    S = WithdrawState
    return frame(S.access, rx.vstack(
        rx.heading("Withdraw ", S.asset, size="7"),
        asset_tabs(S.asset, S.assets, routes.WITHDRAW),
        messages(S.notice, S.error),
        _request_card(),
        _book_card(),
        rx.heading("Your withdrawals", size="4", as_="h2"),
        table(["Time", "Amount", "Recipient gets", "To", "Status", "Txid / reason", ""], S.rows,
              lambda r: [r["time"], r["amount"], r["receive"], rx.code(r["address"], size="1"),
                         rx.badge(r["status"], class_name="withdrawal-status"),
                         rx.text(r["txid"], r["reason"], size="1",
                                 class_name="withdrawal-detail"),
                         rx.cond(r["cancellable"] == "yes",
                                 rx.button("Cancel", size="1", variant="soft",
                                           color_scheme="red", class_name="withdrawal-cancel",
                                           on_click=S.cancel(r["id"])))],
              "withdrawal-row", "withdrawals-table",
              empty=("No withdrawals yet.", "Request one above, to an address from your "
                     "address book.")),
        spacing="4", width="100%",
    ))


# --- the emailed links -------------------------------------------------------------------------

def address_confirm_page() -> rx.Component:
    S = AddressConfirmState
    return link_page(
        "Confirm withdrawal address", S.status,
        ("valid", rx.vstack(
            rx.text("Add this ", S.asset, " address to your address book?"),
            rx.code(S.address, id="confirm-address"),
            rx.button("Confirm address", on_click=S.confirm, id="address-confirm"),
            spacing="3")),
        ("done", link_done("Address confirmed. It can be used once its security hold has "
                           "passed.", "address-confirmed")),
        ("invalid", link_refused("This link is invalid, already used or expired.",
                                 "address-confirm-bad")),
        back=rx.link("Go to your wallet", href=routes.WALLET),
    )


def withdraw_confirm_page() -> rx.Component:
    S = WithdrawConfirmState
    return link_page(
        "Confirm withdrawal", S.status,
        ("valid", rx.vstack(
            rx.text("You asked to withdraw:"),
            rx.text(S.summary, weight="bold", id="withdraw-summary"),
            rx.hstack(
                rx.button("Confirm withdrawal", on_click=S.confirm, id="withdraw-confirm"),
                rx.button("This wasn't me: cancel", on_click=S.cancel, color_scheme="red",
                          variant="soft", id="withdraw-cancel-link"),
                spacing="3"),
            spacing="3")),
        ("confirmed", link_done("Confirmed. The withdrawal is now pending review; you will "
                                "get an email at each step.", "withdraw-confirmed")),
        ("cancelled", rx.callout("Cancelled. The funds are available in your account again. "
                                 "If this wasn't you, change your password now.",
                                 icon="circle-x", color_scheme="amber",
                                 id="withdraw-cancelled")),
        ("invalid", link_refused("This link is invalid, already used or expired.",
                                 "withdraw-confirm-bad")),
        back=rx.link("Go to your wallet", href=routes.WALLET),
    )
