"""Staking: open products, the user's positions with the rewards paid so far, stake and
redeem. The user comes from the session cookie; a position id from the page is only ever used
together with that user's id."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.clock import now, when
from bitchange.components.empty import empty_state
from bitchange.components.shell import page
from bitchange.inputs import parse_id
from bitchange.ledger import account_for_user, balances_of
from bitchange.money import AmountError, parse_amount
from bitchange.staking import service as staking
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event
from bitchange.trading.markets import assets


def apr_text(apr_bps: int) -> str:
    return f"{apr_bps / 100:.2f} %"


def lock_text(lock_days: int) -> str:
    return "Flexible" if lock_days == 0 else f"{lock_days} days"


class StakingState(rx.State):
    access: str = "unknown"
    products: list[dict[str, str]] = []
    positions: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""

    def _refresh(self, user_id: int) -> None:
        moment = now()
        with db.read() as conn:
            precisions = assets(conn)
            products = staking.list_products(conn, only_active=True)
            positions = staking.positions_of(conn, user_id)
            money = balances_of(conn, account_for_user(conn, user_id))

        def fmt(amount: int, asset: str) -> str:
            return precisions[asset].format(amount)

        self.products = [{
            "id": str(p.id), "name": p.name, "asset": p.asset, "apr": apr_text(p.apr_bps),
            "lock": lock_text(p.lock_days), "min": fmt(p.min_amount, p.asset),
            "max": fmt(p.max_per_user, p.asset),
            "left": fmt(p.capacity - p.staked_total, p.asset),
            "available": fmt(money.get(p.asset, (0, 0))[0], p.asset),
            "rewards": "Rewards paused: the reward pool is being refilled"
            if p.rewards_status == "no_funds" else ""} for p in products]
        self.positions = [{
            "id": str(v.id), "product": v.product_name, "asset": v.asset,
            "amount": fmt(v.amount, v.asset), "apr": apr_text(v.apr_bps),
            "started": when(v.started_at),
            "unlocks": "Flexible" if v.unlocks_at is None else when(v.unlocks_at),
            "reward": fmt(v.rewards_paid, v.asset), "status": v.status,
            "redeemable": "yes" if v.redeemable(moment) else "",
            "rewards_note": "paused (pool empty)" if v.status == "active"
            and v.rewards_status == "no_funds" else ""} for v in positions]

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.error = self.notice = ""
        user = current_user(self)
        if user is None:
            self.access = "denied"
            return navigate(routes.login(routes.STAKING))
        self.access = "ok"
        self._refresh(user.user_id)
        return None

    @event
    def stake(self, form: dict) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            return navigate(routes.login(routes.STAKING))
        self.error = self.notice = ""
        try:
            product_id = parse_id(form.get("product_id"))
            with db.write() as conn:
                product = staking.get_product(conn, product_id)
                if product is None:
                    raise staking.StakingError("Choose a product.")
                amount = parse_amount(str(form.get("amount", "")),
                                      assets(conn)[product.asset].precision)
                staking.stake(conn, user.user_id, product_id, amount)
            self.notice = f"Staked {form.get('amount')} {product.asset} in {product.name}."
        except ValueError as exc:  # StakingError, AmountError, a malformed id
            self.error = str(exc) if isinstance(exc, (staking.StakingError, AmountError)) \
                else "Choose a product."
        self._refresh(user.user_id)
        return None

    @event
    def redeem(self, position_id: str) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            return navigate(routes.login(routes.STAKING))
        self.error = self.notice = ""
        try:
            with db.write() as conn:
                staking.redeem(conn, user.user_id, parse_id(position_id))
            self.notice = "Redeemed: the amount is back in your available balance."
        except staking.StakingError as exc:
            self.error = str(exc)
        except ValueError:
            self.error = "Unknown position."
        self._refresh(user.user_id)
        return None


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
    positions = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
            "Product", "Amount", "APR", "Since", "Unlocks", "Rewards paid", "Status", ""]])),
        rx.table.body(rx.foreach(S.positions, lambda v: rx.table.row(
            rx.table.cell(v["product"]), rx.table.cell(v["amount"], " ", v["asset"]),
            rx.table.cell(v["apr"]), rx.table.cell(v["started"]), rx.table.cell(v["unlocks"]),
            rx.table.cell(rx.text(v["reward"], " ", v["asset"], class_name="position-reward"),
                          rx.cond(v["rewards_note"] != "",
                                  rx.text(v["rewards_note"], size="1", color_scheme="amber"))),
            rx.table.cell(rx.badge(v["status"])),
            rx.table.cell(rx.cond(v["status"] == "active", rx.button(
                "Redeem", size="1", variant="soft", class_name="position-redeem",
                on_click=S.redeem(v["id"])))),
            class_name="position-row"))),
        width="100%", size="1", id="staking-positions",
    )
    body = rx.vstack(
        rx.heading("Staking", size="7"),
        rx.text("Rewards accrue per full UTC day held, are paid daily into your available "
                "balance, and are rounded down to the asset's smallest unit.", size="2",
                color_scheme="gray"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="check", color_scheme="green",
                                           id="staking-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="staking-error")),
        rx.hstack(rx.foreach(S.products, _product_card), wrap="wrap", spacing="3"),
        empty_state(S.products, "No staking products are open right now.",
                    "Products appear here when the exchange opens them; check back later.",
                    id_="staking-products-empty"),
        rx.heading("Your positions", size="5"),
        positions,
        empty_state(S.positions, "You have no staking positions.",
                    "Stake an amount in one of the products above to earn daily rewards.",
                    id_="staking-positions-empty"),
        spacing="4", width="100%",
    )
    return page(rx.cond(S.access == "ok", body, rx.text("Loading…", color_scheme="gray")))
