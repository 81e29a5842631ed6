"""The trading screen's state: one market's public view, the visitor's private view, the form.

Every handler that reads or changes the user's data takes the user from the server-side
session (`current_user`), never from event arguments; order ids sent to cancel are checked by
the service. The form's field setters only edit this tab's form and read nothing private.
Pushed lists are bounded (`bitchange.trading.views`). Live updates arrive from
`bitchange.state.live`.

Handlers that reach the database or the service run their work in a thread: a placement can
wait for the market's writer lock, and a sync handler would hold up the worker's event loop,
so every other tab on the worker and the live pushes with it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from bitchange import db, ratelimits
from bitchange.accounts.sessions import CurrentUser
from bitchange.inputs import parse_id
from bitchange.state import live
from bitchange.state.auth import client_ip, current_user
from bitchange.state.events import event, off_loop
from bitchange.trading import service
from bitchange.trading.candles import INTERVALS
from bitchange.trading.service import OcoRequest, PlacedOrder, TradingError
from bitchange.trading.views import (
    FORM_KINDS,
    NO_DATA,
    PRICED_KINDS,
    FormError,
    MarketSnapshot,
    MarketView,
    OrderForm,
    PrivateView,
    amount_for_total,
    build_request,
    chart,
    conditional_errors,
    estimate,
    form_errors,
    fraction_of_available,
    last_trade_price,
    market_snapshot,
    market_view,
    preview,
    private_view,
    valid_interval,
)

UNVERIFIED = ("Confirm your email address to trade. We sent you a link when you signed up; "
              "you can ask for a new one in the security centre.")
EMPTY_BALANCES = {"base_available": NO_DATA, "base_locked": NO_DATA,
                  "quote_available": NO_DATA, "quote_locked": NO_DATA}


def symbol_from_path(path: str) -> str:
    """'/trade/btc-usdt/' -> 'BTC-USDT'."""
    parts = [p for p in (path or "").split("/") if p]
    return parts[1].upper()[:21] if len(parts) >= 2 and parts[0] == "trade" else ""


def market_vars(snap: MarketSnapshot, tail: list[dict[str, float]] | None) -> dict[str, Any]:
    """The screen's vars that show its market (with the chart's last candles, if any): the
    same for every viewer, so the watcher builds them once for all of a market's tabs."""
    shown: dict[str, Any] = {"info": snap.info, "bids": snap.bids, "asks": snap.asks,
                             "spread": snap.spread, "tape": snap.trades, "ticker": snap.ticker}
    if tail:
        shown["candle_tail"] = tail
    return shown


EXPIRED_BECAUSE = {
    "IOC": "immediate or cancel: what did not trade at once was cancelled",
    "FOK": "fill or kill: the book could not fill all of it at once",
    "STP": "it would have traded with your own order",
    "MARKET_NO_LIQUIDITY": "not enough orders in the book",
    "INSUFFICIENT_BUDGET": "the amount to spend buys less than one lot at the best price",
}


def describe_placed(placed: PlacedOrder, mv: MarketView, side: str) -> str:
    verb = "Bought" if side == "BUY" else "Sold"
    because = EXPIRED_BECAUSE.get(placed.expired_because, "")
    if placed.status == "open":
        return f"Order #{placed.order_id} placed in the book"
    if placed.status == "pending":
        return f"Order #{placed.order_id} is waiting for its trigger"
    if placed.filled:
        rest = {"filled": "", "partially_filled": "; the rest rests in the book",
                "expired": "; the rest was cancelled"}.get(placed.status, "")
        if rest and because and placed.status == "expired":
            rest += f" ({because})"
        return f"{verb} {mv.amount(placed.filled)} {mv.base}{rest}"
    if because:
        return f"Order #{placed.order_id} expired: {because}"
    return f"Order #{placed.order_id} {placed.status}"


class TradeState(rx.State):
    # --- the market (public) ---
    market: str = ""
    found: bool = True
    info: dict[str, str] = {}
    bids: list[dict[str, str]] = []
    asks: list[dict[str, str]] = []
    spread: str = NO_DATA
    tape: list[dict[str, str]] = []
    ticker: dict[str, str] = {}
    interval: str = "1m"
    small_panel: str = "chart"  # on a small screen: chart, book or trades
    candles: list[dict[str, float]] = []
    candle_tail: list[dict[str, float]] = []
    # --- the visitor (private to this tab's signed-in user) ---
    signed_in: bool = False
    can_trade: bool = False
    blocked_reason: str = ""
    balances: dict[str, str] = EMPTY_BALANCES
    open_orders: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    my_trades: list[dict[str, str]] = []
    trigger_marks: list[dict[str, str]] = []  # the chart's lines at pending trigger prices
    # --- the order form ---
    side: str = "BUY"
    kind: str = "limit"
    price: str = ""
    amount: str = ""
    total: str = ""
    sized_by: str = "amount"
    tif: str = "GTC"
    post_only: bool = False
    stop: str = ""
    trail: str = ""
    stop_limit: str = ""
    stop_error: str = ""
    trail_error: str = ""
    stop_limit_error: str = ""
    preview: str = ""  # a conditional order in plain words
    price_error: str = ""
    amount_error: str = ""
    total_error: str = ""
    est_total: str = ""
    est_fee: str = ""
    form_error: str = ""
    notice: str = ""
    # Backend only: what the percent buttons may use.
    _available_base: int = 0
    _available_quote: int = 0

    # --- helpers (not events) ---

    def _view(self) -> MarketView | None:
        with db.read() as conn:
            return market_view(conn, self.market)

    def _form(self) -> OrderForm:
        return OrderForm(self.side, self.kind, self.price, self.amount, self.total,
                         self.sized_by, self.tif, self.post_only, self.stop, self.trail,
                         self.stop_limit)

    def _apply_market(self, snap: MarketSnapshot) -> None:
        for name, value in market_vars(snap, None).items():
            setattr(self, name, value)

    def _refresh_market(self) -> None:
        """The market as it is now, chart tail included: after this tab's own order the
        watcher has nothing new to push to it (the seq is marked seen)."""
        snap = market_snapshot(self.market)
        if snap is None:
            return
        self._apply_market(snap)
        mv = self._view()
        if mv is not None:
            with db.read() as conn:
                self.candle_tail = chart(conn, mv, self.interval, 2)  # type: ignore[arg-type]
        live.mark_seen(self, snap)

    async def _live_refresh(self, news: live.News) -> None:
        """The watcher's callback when this user's balances or orders moved (the market's
        moves reach the tab without its state: `market_vars`)."""
        self._set_private(*await off_loop(self._load_private, False))

    def _load_chart(self) -> None:
        mv = self._view()
        with db.read() as conn:
            self.candles = chart(conn, mv, self.interval) if mv else []  # type: ignore[arg-type]
        self.candle_tail = []

    def _load_private(self, active: bool = True) -> tuple[CurrentUser | None, PrivateView | None]:
        """Blocking: the signed-in user of this tab and their view of this market (`active`:
        the user caused this load, so it counts as activity for the idle timeout)."""
        user = current_user(self, active=active)
        if user is None or not self.market:
            return user, None
        return user, private_view(user.user_id, self.market)

    def _set_private(self, user: CurrentUser | None, view: PrivateView | None) -> None:
        self.signed_in = user is not None
        self.can_trade = bool(user and user.email_verified)
        self.blocked_reason = UNVERIFIED if user is not None and not user.email_verified else ""
        if user is None or view is None:
            self.balances, self._available_base, self._available_quote = EMPTY_BALANCES, 0, 0
            self.open_orders, self.history, self.my_trades = [], [], []
            self.trigger_marks = []
            return
        balances = dict(view.balances)
        self._available_base = int(balances.pop("base_raw"))
        self._available_quote = int(balances.pop("quote_raw"))
        self.balances = balances
        self.open_orders, self.history, self.my_trades = (view.open_orders, view.history,
                                                          view.trades)
        self.trigger_marks = view.trigger_marks

    def _refresh_private(self) -> CurrentUser | None:
        user, view = self._load_private()
        self._set_private(user, view)
        return user

    def _trader(self) -> CurrentUser | None:
        """The signed-in user for an order action, or None after telling the tab to log in
        (and clearing its private view)."""
        user = current_user(self)
        if user is None:
            self._set_private(None, None)
            self.form_error = "Log in to trade"
        return user

    def _revalidate(self) -> None:
        mv = self._view()
        if mv is None:
            return
        self.est_total, self.est_fee = estimate(self._form(), mv)
        if self.kind in PRICED_KINDS and self.sized_by == "amount":
            self.total = self.est_total  # a limit order's total follows its price and amount
        self.price_error, self.amount_error, self.total_error = form_errors(self._form(), mv)
        self.stop_error, self.trail_error, self.stop_limit_error = conditional_errors(
            self._form(), mv)
        self.preview = preview(self._form(), mv, last_trade_price(self.market))
        self.form_error = ""

    # --- page load ---

    @event
    async def load(self) -> None:
        await asyncio.to_thread(self._load)

    def _load(self) -> None:
        symbol = symbol_from_path(self.router.url.path)
        with db.read() as conn:
            mv = market_view(conn, symbol) if symbol else None
        if mv is None:
            live.unwatch(self)
            self.found, self.market = False, ""
            self.bids = self.asks = self.tape = self.candles = self.candle_tail = []
            self._set_private(None, None)
            return
        if symbol != self.market:
            self.price = self.amount = self.total = ""
            self.form_error = self.notice = ""
        self.found, self.market = True, symbol
        self.interval = valid_interval(self.interval)
        user = self._refresh_private()
        # Subscribe before reading the snapshot: a change in between moves the seq again.
        live.watch(self, TradeState._live_refresh, user_id=user.user_id if user else None,
                   activity=frozenset({live.LEDGER}), market=symbol, interval=self.interval,
                   public=market_vars)
        self._refresh_market()
        self._load_chart()
        self._revalidate()

    @event
    async def set_chart_interval(self, interval: str) -> None:
        await asyncio.to_thread(self._set_chart_interval, interval)

    def _set_chart_interval(self, interval: str) -> None:
        if interval not in INTERVALS or not self.market:
            return
        self.interval = interval
        live.set_interval(self, interval)
        self._load_chart()

    @event
    def show_panel(self, panel: str) -> None:
        self.small_panel = panel if panel in ("chart", "book", "trades") else "chart"

    # --- the form ---

    @event
    def set_side(self, side: str) -> None:
        self.side = "SELL" if side == "SELL" else "BUY"
        if self.kind == "market" and self.side == "SELL":
            self.sized_by = "amount"
        if self.kind in ("stop_market", "trailing"):
            self.sized_by = "total" if self.side == "BUY" else "amount"
        self.notice = ""
        self._revalidate()

    @event
    def set_kind(self, kind: str) -> None:
        self.kind = kind if kind in FORM_KINDS else "limit"
        self.sized_by = "total" if self.kind in ("stop_market", "trailing") and (
            self.side == "BUY") else "amount"
        if self.kind != "limit":
            self.post_only, self.tif = False, "GTC"
        if self.kind not in PRICED_KINDS:
            self.total = ""
        self._revalidate()

    @event
    def set_stop(self, value: str) -> None:
        self.stop = value[:40]
        self._revalidate()

    @event
    def set_trail(self, value: str) -> None:
        self.trail = value[:12]
        self._revalidate()

    @event
    def set_stop_limit(self, value: str) -> None:
        self.stop_limit = value[:40]
        self._revalidate()

    @event
    def set_price(self, value: str) -> None:
        self.price = value[:40]
        self._revalidate()

    @event
    def set_amount(self, value: str) -> None:
        self.amount, self.sized_by = value[:40], "amount"
        self._revalidate()

    @event
    def set_total(self, value: str) -> None:
        self.total = value[:40]
        mv = self._view()
        if mv is None:
            return
        if self.kind in ("market", "stop_market", "trailing"):
            if self.side == "BUY":
                self.sized_by, self.amount = "total", ""
        else:
            # A typed total sets the amount (down to the lot) and is kept as typed.
            self.amount, self.sized_by = amount_for_total(self.total, self.price, mv), "total"
        self._revalidate()
        if self.kind in PRICED_KINDS:
            self.sized_by = "amount"

    @event
    def set_tif(self, tif: str) -> None:
        self.tif = tif if tif in ("GTC", "IOC", "FOK") else "GTC"
        if self.tif != "GTC":
            self.post_only = False

    @event
    def set_post_only(self, checked: bool) -> None:
        self.post_only = bool(checked)
        if self.post_only:
            self.tif = "GTC"

    @event
    def pick_price(self, price: str) -> None:
        """A click on a book level or a trade: its plain price goes into the form, checked like
        typed text (a forged "1,5" is refused, never read as 15)."""
        if self.kind not in PRICED_KINDS:
            self.kind = "limit"
        self.price = price[:40]
        self._revalidate()

    @event
    async def pick_percent(self, percent: int) -> None:
        await asyncio.to_thread(self._pick_percent, percent)

    def _pick_percent(self, percent: int) -> None:
        mv = self._view()
        if mv is None or str(percent) not in ("25", "50", "75", "100"):
            return
        if self._refresh_private() is None:  # the session, and fresh balances to divide
            return
        try:
            form = fraction_of_available(self._form(), int(percent), self._available_base,
                                         self._available_quote, mv)
        except FormError as exc:
            self._refused(exc)
            return
        self.amount, self.total, self.sized_by = form.amount, form.total, form.sized_by
        self._revalidate()

    # --- orders ---

    @event
    async def place_order(self) -> None:
        await asyncio.to_thread(self._place_order)

    def _refused(self, exc: FormError) -> None:
        """One rule for the form: an error about one field shows beside that field only; the
        form message says only what is about no single field. Either replaces the notice."""
        self.notice = ""
        if exc.field in ("price", "amount", "total", "stop", "trail", "stop_limit"):
            setattr(self, f"{exc.field}_error", str(exc))
        else:
            self.form_error = str(exc)

    def _new_result(self) -> None:
        """An action's result replaces every earlier message: the notice, the form message and
        what the last submit said beside a field (what is still wrong with a field stays)."""
        self.notice = ""
        self._revalidate()

    def _place_order(self) -> None:
        self._new_result()
        user = self._trader()
        if user is None:
            return
        mv = self._view()
        if mv is None:
            self.form_error = "Unknown market"
            return
        if (self.price_error or self.amount_error or self.total_error or self.stop_error
                or self.trail_error or self.stop_limit_error):
            return  # each is already said beside its field
        try:
            request = build_request(self._form(), mv, last_trade_price(self.market))
            ratelimits.check("order", TradingError, ip=client_ip(self), account=user.user_id)
            if isinstance(request, OcoRequest):
                placed = service.place_oco(user.user_id, self.market, request).above
                placed_kind = "OCO"
            else:
                placed = service.place_order(user.user_id, self.market, request)
                placed_kind = ""
        except FormError as exc:
            self._refused(exc)
            return
        except TradingError as exc:
            self.form_error = str(exc)
            self._refresh_private()
            return
        self.notice = (f"OCO #{placed.order_id} placed: both orders wait" if placed_kind
                       else describe_placed(placed, mv, request.side))
        self.amount = self.total = ""
        self.est_total = self.est_fee = ""
        self._refresh_private()
        self._refresh_market()

    @event
    async def cancel_order(self, order_id: str) -> None:
        await asyncio.to_thread(self._cancel_order, order_id)

    def _cancel_order(self, order_id: str) -> None:
        self._new_result()
        user = self._trader()
        if user is None:
            return
        try:
            number = parse_id(order_id)
            ratelimits.check("cancel", TradingError, ip=client_ip(self), account=user.user_id)
            service.cancel_order(user.user_id, number)
            self.notice = f"Order #{number} cancelled"
        except (TradingError, ValueError) as exc:
            self.form_error = str(exc) if isinstance(exc, TradingError) else "Order not found"
        self._refresh_private()
        self._refresh_market()

    @event
    async def cancel_all(self) -> None:
        """Every open order of the user in this market."""
        await asyncio.to_thread(self._cancel_all, self.market)

    @event
    async def cancel_all_markets(self) -> None:
        """Every open order of the user, in every market."""
        await asyncio.to_thread(self._cancel_all, None)

    def _cancel_all(self, symbol: str | None) -> None:
        self._new_result()
        user = self._trader()
        if user is None:
            return
        if refusal := ratelimits.hit("cancel", ip=client_ip(self), account=user.user_id):
            self.form_error = refusal.message
            return
        count = service.cancel_all(user.user_id, symbol)
        where = f" in {symbol}" if symbol else " in all markets"
        self.notice = f"{count} order{'s' if count != 1 else ''} cancelled{where}"
        self.form_error = ""
        self._refresh_private()
        self._refresh_market()
