"""The wallet area's frame: its sub-navigation, asset tabs and the signed-in gate."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.shell import page


def wallet_nav() -> rx.Component:
    return rx.hstack(
        rx.link("Balances", href=routes.WALLET, id="wallet-nav-balances"),
        rx.link("Deposit", href=routes.DEPOSIT, id="wallet-nav-deposit"),
        rx.link("Withdraw", href=routes.WITHDRAW, id="wallet-nav-withdraw"),
        rx.link("Transfer", href=routes.TRANSFER, id="wallet-nav-transfer"),
        rx.link("History", href=routes.HISTORY, id="wallet-nav-history"),
        spacing="4", wrap="wrap",
    )


def asset_tabs(current, assets_var, route: str) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.hstack(rx.foreach(assets_var, lambda a: rx.link(
        rx.button(a, variant=rx.cond(current == a, "solid", "soft"), size="1"),
        href=f"{route}?asset=" + a, id="asset-" + a)), spacing="2")


def frame(access, body: rx.Component) -> rx.Component:  # type: ignore[no-untyped-def]
    return page(rx.match(
        access,
        ("ok", rx.vstack(wallet_nav(), body, spacing="4", width="100%")),
        ("denied", rx.callout("Log in to see your wallet.", icon="lock", id="wallet-denied")),
        rx.text("Loading…", color_scheme="gray"),
    ))
