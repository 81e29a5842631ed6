"""An admin page's pool account (promotions, staking rewards): its balances and the form that
funds it from collected fees through the ledger."""

from __future__ import annotations

import reflex as rx

from bitchange.components.lists import choice_select


def pool_card(title: str, pool, asset_codes, on_fund, *,  # type: ignore[no-untyped-def]
              id_prefix: str = "", table_id: str = "") -> rx.Component:
    """`pool` rows have `asset` and `balance`; the form's fields are `{id_prefix}fund-asset`,
    `{id_prefix}fund-amount` and `{id_prefix}fund-submit`; `table_id`, when given, names
    the balances table (its rows `{table_id}-row`)."""
    table_names = {"id": table_id} if table_id else {}
    row_names = {"class_name": f"{table_id}-row"} if table_id else {}
    return rx.card(rx.vstack(
        rx.heading(title, size="4"),
        rx.table.root(rx.table.body(rx.foreach(pool, lambda r: rx.table.row(
            rx.table.cell(r["asset"]), rx.table.cell(r["balance"]), **row_names))),
            size="1", **table_names),
        rx.form(rx.hstack(
            choice_select(asset_codes, "asset", f"{id_prefix}fund-asset"),
            rx.input(name="amount", placeholder="Amount", id=f"{id_prefix}fund-amount"),
            rx.text("from collected fees", size="2", color_scheme="gray"),
            rx.button("Fund", type="submit", id=f"{id_prefix}fund-submit"),
        ), on_submit=on_fund, reset_on_submit=True),
        spacing="2",
    ), width="100%", max_width="720px")
