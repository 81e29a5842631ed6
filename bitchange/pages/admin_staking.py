"""Admin: staking products (create, close, reopen), totals staked, rewards paid, and the
rewards account with a form to fund it through the ledger."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.components.empty import empty_state
from bitchange.inputs import InputError, parse_id, parse_whole
from bitchange.money import AmountError, parse_amount
from bitchange.pages.admin_users import admin_frame, gate
from bitchange.pages.staking import apr_text, lock_text
from bitchange.staking import service as staking
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event
from bitchange.trading.markets import assets


class AdminStakingState(rx.State):
    access: str = "unknown"
    products: list[dict[str, str]] = []
    pool: list[dict[str, str]] = []
    asset_codes: list[str] = []
    notice: str = ""
    error: str = ""

    def _refresh(self) -> None:
        with db.read() as conn:
            precisions = assets(conn)
            totals = staking.product_totals(conn)
            rewards = staking.rewards_balance(conn)

        def fmt(amount: int, asset: str) -> str:
            return precisions[asset].format(amount)

        self.asset_codes = list(precisions)
        self.products = [{
            "id": str(t.product.id), "name": t.product.name, "asset": t.product.asset,
            "apr": apr_text(t.product.apr_bps), "lock": lock_text(t.product.lock_days),
            "limits": f"{fmt(t.product.min_amount, t.product.asset)} - "
                      f"{fmt(t.product.max_per_user, t.product.asset)}",
            "staked": fmt(t.product.staked_total, t.product.asset),
            "capacity": fmt(t.product.capacity, t.product.asset),
            "positions": str(t.positions), "paid": fmt(t.rewards_paid, t.product.asset),
            "status": t.product.status, "rewards": t.product.rewards_status}
            for t in totals]
        self.pool = [{"asset": code, "balance": fmt(rewards.get(code, 0), code)}
                     for code in precisions]

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user, redirect = gate(self, routes.ADMIN_STAKING)
        if user is None:
            self.access, self.products, self.pool = "denied", [], []
            return redirect
        self.access = "admin"
        self._refresh()
        return None

    def _admin(self):  # type: ignore[no-untyped-def]
        admin = current_admin(self)
        if admin is None:
            self.access, self.products, self.pool = "denied", [], []
        self.notice = self.error = ""
        return admin

    @event
    def create(self, form: dict) -> None:
        admin = self._admin()
        if admin is None:
            return
        try:
            asset = str(form.get("asset", ""))
            with db.write() as conn:
                precision = assets(conn)[asset].precision if asset in assets(conn) else 0
                staking.create_product(
                    conn, admin.user_id, asset=asset, name=str(form.get("name", "")),
                    apr_bps=parse_amount(str(form.get("apr", "")), 2, what="APR"),
                    lock_days=parse_whole(form.get("lock_days") or "0", "The lock period"),
                    min_amount=parse_amount(str(form.get("min", "")), precision,
                                            what="Minimum"),
                    max_per_user=parse_amount(str(form.get("max", "")), precision,
                                              what="Maximum per user"),
                    capacity=parse_amount(str(form.get("capacity", "")), precision,
                                          what="Capacity"),
                    ip=client_ip(self))
            self.notice = "Product created."
        except (staking.StakingError, InputError) as exc:
            self.error = str(exc)
        self._refresh()

    @event
    def set_status(self, product_id: str, status: str) -> None:
        admin = self._admin()
        if admin is None:
            return
        try:
            with db.write() as conn:
                staking.set_product_status(conn, admin.user_id,
                                           parse_id(product_id, "Unknown product."), status,
                                           ip=client_ip(self))
        except (staking.StakingError, ValueError) as exc:
            self.error = str(exc)
        self._refresh()

    @event
    def fund(self, form: dict) -> None:
        admin = self._admin()
        if admin is None:
            return
        try:
            asset = str(form.get("asset", ""))
            with db.write() as conn:
                known = assets(conn)
                if asset not in known:
                    raise staking.StakingError("Choose an asset.")
                amount = parse_amount(str(form.get("amount", "")), known[asset].precision)
                staking.fund_rewards(conn, admin.user_id, asset, amount,
                                     source="fees",
                                     ip=client_ip(self))
            self.notice = f"Rewards account funded with {form.get('amount')} {asset}."
        except (staking.StakingError, AmountError) as exc:
            self.error = str(exc)
        self._refresh()


def _asset_select(name: str, element_id: str) -> rx.Component:
    return rx.el.select(rx.foreach(AdminStakingState.asset_codes,
                                   lambda a: rx.el.option(a, value=a)),
                        name=name, id=element_id)


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
            rx.table.cell(rx.cond(
                p["status"] == "active",
                rx.button("Close", size="1", variant="soft", color_scheme="red",
                          on_click=S.set_status(p["id"], "closed")),
                rx.button("Reopen", size="1", variant="soft",
                          on_click=S.set_status(p["id"], "active")))),
            class_name="staking-product-row"))),
        width="100%", size="1", id="admin-staking-products",
    )
    create = rx.card(rx.form(rx.vstack(
        rx.heading("New product", size="4"),
        rx.hstack(
            _asset_select("asset", "product-asset"),
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
    pool = rx.card(rx.vstack(
        rx.heading("Rewards account", size="4"),
        rx.table.root(rx.table.body(rx.foreach(S.pool, lambda r: rx.table.row(
            rx.table.cell(r["asset"]), rx.table.cell(r["balance"]),
            class_name="rewards-pool-row"))), size="1", id="rewards-pool"),
        rx.form(rx.hstack(
            _asset_select("asset", "fund-asset"),
            rx.input(name="amount", placeholder="Amount", id="fund-amount"),
            rx.text("from collected fees", size="2", color_scheme="gray"),
            rx.button("Fund", type="submit", id="fund-submit"),
        ), on_submit=S.fund, reset_on_submit=True),
        spacing="2",
    ), width="100%", max_width="720px")
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
