"""Admin: staking products (create, close, reopen), totals staked, rewards paid, and the
rewards account with a form to fund it through the ledger."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state
from bitchange.components.lists import choice_select, row_switch
from bitchange.components.pool import pool_card
from bitchange.pages.admin_users import admin_frame
from bitchange.state.admin.staking import AdminStakingState


def admin_staking() -> rx.Component:
    S = AdminStakingState
    products = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
            "#", "Product", "Asset", "APR", "Lock", "Min - max/user", "Staked", "Capacity",
            "Positions", "Rewards paid", "Rewards", "Status", ""]])),
        rx.table.body(rx.foreach(S.products, lambda p: rx.table.row(
            *[rx.table.cell(p[k]) for k in ["id", "name", "asset", "apr", "lock", "limits",
                                             "staked", "capacity", "positions", "paid"]],
            rx.table.cell(rx.badge(p["rewards"], color_scheme=rx.cond(
                p["rewards"] == "ok", "green", "red"))),
            rx.table.cell(rx.badge(p["status"])),
            rx.table.cell(row_switch(p["status"] == "active", "Close",
                                     S.set_status(p["id"], "closed"), "Reopen",
                                     S.set_status(p["id"], "active"))),
            class_name="staking-product-row"))),
        width="100%", size="1", id="admin-staking-products",
    )
    create = rx.card(rx.form(rx.vstack(
        rx.heading("New product", size="4"),
        rx.hstack(
            choice_select(S.asset_codes, "asset", "product-asset"),
            rx.input(name="name", placeholder="Name", id="product-name"),
            rx.input(name="apr", placeholder="APR % (e.g. 5.25)", id="product-apr"),
            rx.input(name="lock_days", placeholder="Lock days (0 = flexible)",
                     id="product-lock"),
            wrap="wrap",
        ),
        rx.hstack(
            rx.input(name="min", placeholder="Minimum", id="product-min"),
            rx.input(name="max", placeholder="Maximum per user", id="product-max"),
            rx.input(name="capacity", placeholder="Total capacity", id="product-capacity"),
            wrap="wrap",
        ),
        rx.button("Create product", type="submit", id="product-create"),
        spacing="2",
    ), on_submit=S.create, reset_on_submit=False), width="100%")
    pool = pool_card("Rewards account", S.pool, S.asset_codes, S.fund,
                     table_id="rewards-pool")
    return admin_frame(S.access, rx.vstack(
        rx.heading("Staking", size="7"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="check", id="staking-admin-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="staking-admin-error")),
        products,
        empty_state(S.products, "No staking products yet.",
                    "Create one with the form below; traders see it once it is active.",
                    id_="admin-staking-products-empty"),
        pool, create,
        spacing="3", width="100%",
    ))
