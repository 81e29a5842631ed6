"""The staking page's state: open products and the session user's positions
(`bitchange.staking.views.staking_view`), stake and redeem. A position id from the page is only
ever used together with that user's id."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.inputs import parse_id
from bitchange.money import AmountError, parse_amount
from bitchange.staking import service as staking
from bitchange.staking.views import staking_view
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event
from bitchange.state.page import UserPage
from bitchange.trading.markets import assets


class StakingState(UserPage, rx.State):
    products: list[dict[str, str]] = []
    positions: list[dict[str, str]] = []

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            view = staking_view(conn, user_id)
        self.products, self.positions = view.products, view.positions

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = self._open(routes.STAKING)
        if user is None:
            return redirect
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
