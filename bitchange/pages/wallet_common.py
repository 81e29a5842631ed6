"""Pieces shared by the wallet pages: the sub-navigation, tables, messages, time format."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.empty import empty_state


def wallet_nav() -> rx.Component:
    return rx.hstack(
        rx.link("Balances", href=routes.WALLET, id="wallet-nav-balances"),
        rx.link("Deposit", href=routes.DEPOSIT, id="wallet-nav-deposit"),
        rx.link("Withdraw", href=routes.WITHDRAW, id="wallet-nav-withdraw"),
        rx.link("Transfer", href=routes.TRANSFER, id="wallet-nav-transfer"),
        rx.link("History", href=routes.HISTORY, id="wallet-nav-history"),
        spacing="4", wrap="wrap",
    )


def messages(notice, error) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.fragment(
        rx.cond(notice != "", rx.callout(notice, icon="circle-check", color_scheme="green",
                                         class_name="wallet-notice")),
        rx.cond(error != "", rx.callout(error, icon="triangle-alert", color_scheme="red",
                                        class_name="wallet-error")),
    )


def table(headers: list[str], rows, cells, row_class: str, table_id: str, *,  # type: ignore[no-untyped-def]
          empty: tuple[str, str]) -> rx.Component:
    """`cells(row)` returns the row's cells (components or vars); `empty` is (what the list
    holds, what to do to fill it), said while it has no rows."""
    return rx.fragment(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
            *[rx.table.cell(c) for c in cells(r)], class_name=row_class))),
        width="100%", size="1", id=table_id,
    ), empty_state(rows, *empty, id_=f"{table_id}-empty"))


def asset_tabs(current, assets_var, route: str) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.hstack(rx.foreach(assets_var, lambda a: rx.link(
        rx.button(a, variant=rx.cond(current == a, "solid", "soft"), size="1"),
        href=f"{route}?asset=" + a, id="asset-" + a)), spacing="2")


def frame(access, body: rx.Component) -> rx.Component:  # type: ignore[no-untyped-def]
    from bitchange.components.shell import page

    return page(rx.match(
        access,
        ("ok", rx.vstack(wallet_nav(), body, spacing="4", width="100%")),
        ("denied", rx.callout("Log in to see your wallet.", icon="lock", id="wallet-denied")),
        rx.text("Loading…", color_scheme="gray"),
    ))
