"""Admin: staking products (create, close, reopen) and funding the rewards account through
the ledger."""

from __future__ import annotations

import reflex as rx
from sqlalchemy import Connection

from bitchange import db, routes
from bitchange.accounts.sessions import CurrentUser
from bitchange.inputs import InputError, parse_id, parse_whole
from bitchange.money import parse_amount
from bitchange.staking import admin_views
from bitchange.staking import service as staking
from bitchange.state.admin import AdminForm
from bitchange.state.auth import client_ip
from bitchange.state.events import event
from bitchange.trading.markets import assets


class AdminStakingState(AdminForm, rx.State):
    products: list[dict[str, str]] = []
    pool: list[dict[str, str]] = []
    asset_codes: list[str] = []

    def _refresh(self) -> None:
        with db.read() as conn:
            view = admin_views.staking_page(conn)
        self.asset_codes, self.products, self.pool = view.asset_codes, view.products, view.pool

    @event
    def load(self) -> rx.event.EventSpec | None:
        return self._load(routes.ADMIN_STAKING)

    def _clear(self) -> None:
        self.products, self.pool = [], []

    @event
    def create(self, form: dict) -> None:
        def act(conn: Connection, admin: CurrentUser) -> str:
            asset = str(form.get("asset", ""))
            precision = assets(conn)[asset].precision if asset in assets(conn) else 0
            staking.create_product(
                conn, admin.user_id, asset=asset, name=str(form.get("name", "")),
                apr_bps=parse_amount(str(form.get("apr", "")), 2, what="APR"),
                lock_days=parse_whole(form.get("lock_days") or "0", "The lock period"),
                min_amount=parse_amount(str(form.get("min", "")), precision, what="Minimum"),
                max_per_user=parse_amount(str(form.get("max", "")), precision,
                                          what="Maximum per user"),
                capacity=parse_amount(str(form.get("capacity", "")), precision,
                                      what="Capacity"),
                ip=client_ip(self))
            return "Product created."

        self._write(act, staking.StakingError, InputError)

    @event
    def set_status(self, product_id: str, status: str) -> None:
        def act(conn: Connection, admin: CurrentUser) -> str:
            staking.set_product_status(conn, admin.user_id,
                                       parse_id(product_id, "Unknown product."), status,
                                       ip=client_ip(self))
            return ""

        self._write(act, staking.StakingError, ValueError)

    @event
    def fund(self, form: dict) -> None:
        self._fund(form, staking.fund_rewards, staking.StakingError, "Rewards account")
