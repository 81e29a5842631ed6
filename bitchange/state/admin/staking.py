"""Admin: staking products (create, close, reopen) and funding the rewards account through
the ledger."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.inputs import InputError, parse_id, parse_whole
from bitchange.money import AmountError, parse_amount
from bitchange.staking import admin_views
from bitchange.staking import service as staking
from bitchange.state.admin import AdminForm, form_funding
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
        self.notice = self.error = ""
        user, redirect = self._open(routes.ADMIN_STAKING)
        if user is None:
            return redirect
        self._refresh()
        return None

    def _clear(self) -> None:
        self.products, self.pool = [], []

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
            with db.write() as conn:
                asset, amount = form_funding(conn, form, staking.StakingError)
                staking.fund_rewards(conn, admin.user_id, asset, amount,
                                     source="fees",
                                     ip=client_ip(self))
            self.notice = f"Rewards account funded with {form.get('amount')} {asset}."
        except (staking.StakingError, AmountError) as exc:
            self.error = str(exc)
        self._refresh()
