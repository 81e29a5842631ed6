"""The account page: change the email address, download my data, close the account; and the
page of the link that confirms a new address."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.card import link_done, link_page, link_refused
from bitchange.components.shell import page
from bitchange.state.account import AccountState, ConfirmEmailChangeState


def email_card() -> rx.Component:
    S = AccountState
    return rx.card(rx.form(rx.vstack(
        rx.heading("Email address", size="4", as_="h2"),
        rx.text("Current: ", rx.code(S.email, id="account-email")),
        rx.cond(S.pending_email != "", rx.callout(
            rx.text("Waiting for ", rx.code(S.pending_email),
                    " to confirm: follow the link we sent there."),
            icon="mail", id="email-pending")),
        rx.input(name="email", type="email", placeholder="New email address",
                 id="email-new", width="100%"),
        rx.input(name="password", type="password", placeholder="Password",
                 id="email-password", auto_complete="current-password", width="100%"),
        rx.input(name="code", placeholder="2FA code (when 2FA is on)", id="email-code",
                 auto_complete="one-time-code", width="100%"),
        rx.text("The address changes once the new one confirms. Your other sessions then end, "
                "and withdrawals and new API keys wait 24 hours.", size="1",
                color_scheme="gray"),
        rx.button("Change email", type="submit", id="email-submit"),
        spacing="2", width="100%",
    ), on_submit=S.change_email, reset_on_submit=True), width="100%")


def export_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Your data", size="4", as_="h2"),
        rx.text("Everything we hold on you, as one JSON file: profile, sessions, login "
                "history, orders, trades, ledger entries, deposits, withdrawals, tickets and "
                "your documents by name.", size="2"),
        # A plain download from the backend route (a link would be routed client-side).
        rx.button("Download my data", id="export-download", on_click=rx.download(
            url=routes.ACCOUNT_EXPORT, filename="bitchange-data.json")),
        spacing="2", width="100%",
    ), width="100%")


def close_card() -> rx.Component:
    S = AccountState
    return rx.card(rx.form(rx.vstack(
        rx.heading("Close the account", size="4", as_="h2"),
        rx.cond(S.remains.length() > 0, rx.vstack(
            rx.text("Before the account can be closed:", size="2", weight="bold"),
            rx.foreach(S.remains, lambda r: rx.text(r, size="2", class_name="remains")),
            id="close-remains",
        )),
        rx.text("Closing keeps the records we must keep, ends every session and API key, and "
                "nobody can log in again.", size="2"),
        rx.input(name="password", type="password", placeholder="Password", id="close-password",
                 auto_complete="current-password", width="100%"),
        rx.input(name="code", placeholder="2FA code (when 2FA is on)", id="close-code",
                 width="100%"),
        rx.input(name="confirm", placeholder="Type CLOSE", id="close-confirm", width="100%"),
        rx.button("Close my account", type="submit", color_scheme="red", id="close-submit"),
        spacing="2", width="100%",
    ), on_submit=S.close_account, reset_on_submit=True), width="100%")


def account_page() -> rx.Component:
    S = AccountState
    return page(rx.cond(
        S.access == "ok",
        rx.vstack(
            rx.heading("Account", size="7"),
            rx.link("Back to the security centre", href=routes.SECURITY),
            rx.cond(S.notice != "", rx.callout(S.notice, icon="info", id="account-notice")),
            rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert",
                                              color_scheme="red", id="account-error")),
            rx.grid(email_card(), export_card(), close_card(), columns="2", spacing="4",
                    width="100%"),
            spacing="4", width="100%",
        ),
        rx.text("Loading…", color_scheme="gray"),
    ))


def confirm_email_change() -> rx.Component:
    return link_page(
        "New email address", ConfirmEmailChangeState.status,
        ("ok", link_done("Your new address is confirmed and now signs you in. Your other "
                         "sessions were ended.", "email-change-ok")),
        ("invalid", link_refused("This link is invalid, already used, cancelled or expired.",
                                 "email-change-bad")),
        back=rx.link("Go to the security centre", href=routes.SECURITY),
    )
