"""The Orders page's state: resolve the user from the session, call the trading service and the
orders view (`bitchange.trading.orders_view`), assign what it built.

The lists hold only the signed-in user's rows; an order id sent to cancel is checked by the
service against that user, so a forged id is "not found".
"""

from __future__ import annotations

import reflex as rx

from bitchange.inputs import InputError, parse_id
from bitchange.state.auth import current_user
from bitchange.state.events import event
from bitchange.trading import service
from bitchange.trading.orders_view import (
    ALL,
    FilterError,
    OrderFilter,
    market_symbols,
    orders_csv,
    orders_view,
    parse_filter,
    trades_csv,
)
from bitchange.trading.service import TradingError


class OrdersState(rx.State):
    access: str = "loading"  # loading | ok | denied
    markets: list[str] = []
    # The filters as the page shows them (ALL for "any").
    market: str = ALL
    side: str = ALL
    status: str = ALL
    since: str = ""
    until: str = ""
    open_orders: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    trades: list[dict[str, str]] = []
    notice: str = ""
    error: str = ""

    def _filter(self) -> OrderFilter:
        self.markets = market_symbols()
        return parse_filter(self.markets, self.market, self.side, self.status, self.since,
                            self.until)

    def _reload(self) -> int | None:
        """Rebuild the lists for the session's user; the user id, or None when signed out."""
        user = current_user(self)
        if user is None:
            self.access, self.open_orders, self.history, self.trades = "denied", [], [], []
            return None
        self.access = "ok"
        try:
            view = orders_view(user.user_id, self._filter())
        except FilterError as exc:
            self.error = str(exc)  # the lists stay as they were
            return user.user_id
        self.error = ""
        self.open_orders, self.history, self.trades = view.open_orders, view.history, view.trades
        return user.user_id

    @event
    def load(self) -> None:
        self.notice = ""
        self._reload()

    @event
    def apply(self, form: dict) -> None:
        """The filter form: market, side, status, and a date range (inclusive)."""
        self.market, self.side, self.status = (str(form.get(key) or ALL)[:21]
                                               for key in ("market", "side", "status"))
        self.since, self.until = (str(form.get(key) or "")[:10] for key in ("since", "until"))
        self.notice = ""
        self._reload()

    @event
    def cancel_order(self, order_id: str) -> None:
        user = current_user(self)
        if user is None:
            self._reload()
            return
        try:
            number = parse_id(order_id, "Order not found")
            service.cancel_order(user.user_id, number)
            self.notice = f"Order #{number} cancelled"
        except (TradingError, InputError) as exc:
            self.notice = ""
            self._reload()
            self.error = str(exc)
            return
        self._reload()

    @event
    def cancel_all(self) -> None:
        """Every open order of the user, in the market filtered on or in every market."""
        user = current_user(self)
        if user is None:
            self._reload()
            return
        market = self.market if self.market in market_symbols() else None
        count = service.cancel_all(user.user_id, market)
        self.notice = (f"{count} order{'s' if count != 1 else ''} cancelled in "
                       f"{market or 'all markets'}")
        self._reload()

    def _export(self, build, name: str) -> rx.event.EventSpec | None:  # type: ignore[no-untyped-def]
        user = current_user(self)
        if user is None:
            self._reload()
            return None
        try:
            data = build(user.user_id, self._filter())
        except FilterError as exc:
            self.error = str(exc)
            return None
        return rx.download(data=data, filename=f"bitchange-{name}.csv", mime_type="text/csv")

    @event
    def export_orders(self) -> rx.event.EventSpec | None:
        return self._export(orders_csv, "orders")

    @event
    def export_trades(self) -> rx.event.EventSpec | None:
        return self._export(trades_csv, "trades")
