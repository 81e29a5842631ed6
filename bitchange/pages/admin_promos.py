"""Admin: promo codes (create, activate/deactivate), redemptions per code, and the promotions
account with a form to fund it through the ledger."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state
from bitchange.components.lists import choice_select, row_switch
from bitchange.components.pool import pool_card
from bitchange.pages.admin_users import admin_frame
from bitchange.promos import service as promos
from bitchange.state.admin.promos import AdminPromosState


def admin_promos() -> rx.Component:
    S = AdminPromosState
    codes = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
            "Code", "Reward", "Redeemed", "Per user", "Valid (UTC)", "Condition", "Active",
            ""]])),
        rx.table.body(rx.foreach(S.codes, lambda c: rx.table.row(
            rx.table.cell(rx.button(c["code"], variant="ghost", size="1",
                                    on_click=S.show(c["code"]), class_name="promo-show")),
            *[rx.table.cell(c[k]) for k in ["reward", "used", "per_user", "window",
                                             "condition", "active"]],
            rx.table.cell(row_switch(c["active"] == "yes", "Deactivate", S.toggle(c["id"], "no"),
                                     "Activate", S.toggle(c["id"], "yes"))),
            class_name="promo-code-row"))),
        width="100%", size="1", id="promo-codes",
    )
    create = rx.card(rx.form(rx.vstack(
        rx.heading("New code", size="4"),
        rx.hstack(
            rx.input(name="code", placeholder="CODE", id="promo-new-code"),
            choice_select(S.asset_codes, "asset", "promo-new-asset"),
            rx.input(name="amount", placeholder="Reward amount", id="promo-new-amount"),
            rx.input(name="total", placeholder="Total redemptions", id="promo-new-total"),
            rx.input(name="per_user", placeholder="Per user (1)", id="promo-new-per-user"),
            wrap="wrap",
        ),
        rx.hstack(
            rx.input(name="valid_from", placeholder="From (UTC, default now)"),
            rx.input(name="valid_until", placeholder="Until (UTC, default +30 days)"),
            rx.el.select(*[rx.el.option(label, value=value)
                           for value, label in promos.CONDITIONS.items()],
                         name="condition", id="promo-new-condition"),
            choice_select(S.asset_codes, "condition_asset", "promo-new-condition-asset",
                          blank="—"),
            rx.input(name="condition_amount", placeholder="Minimum / level"),
            wrap="wrap",
        ),
        rx.button("Create code", type="submit", id="promo-create"),
        spacing="2",
    ), on_submit=S.create, reset_on_submit=False), width="100%")
    pool = pool_card("Promotions account", S.pool, S.asset_codes, S.fund, id_prefix="promo-")
    redemptions = rx.cond(S.selected_code != "", rx.card(rx.vstack(
        rx.heading("Redemptions of ", S.selected_code, size="4"),
        rx.table.root(rx.table.body(rx.foreach(S.redemptions, lambda r: rx.table.row(
            rx.table.cell(r["email"]), rx.table.cell(r["amount"]), rx.table.cell(r["time"]),
            class_name="promo-redemption-row"))), size="1", width="100%"),
        empty_state(S.redemptions, "Nobody has redeemed this code yet.",
                    id_="promo-redemptions-empty"),
    ), width="100%"))
    return admin_frame(S.access, rx.vstack(
        rx.heading("Promo codes", size="7"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="check", id="promo-admin-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="promo-admin-error")),
        codes,
        empty_state(S.codes, "No promo codes yet.", "Create one with the form below.",
                    id_="promo-codes-empty"),
        redemptions, pool, create,
        spacing="3", width="100%",
    ))
