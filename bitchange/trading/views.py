"""What the trading screen shows, as small JSON-ready rows: no Reflex here, so it is testable
without a browser and shared by the page's handlers and the live-update watcher.

Public views (book, tape, ticker, candles) carry no user ids. Private views (balances, orders,
the user's trades) are built only for the user they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, func, select

from bitchange import db
from bitchange.db.models import LedgerAccount, LedgerEntry, LedgerTransaction
from bitchange.engine import Side, trail_level
from bitchange.ledger import balances_of
from bitchange.money import (
    AmountError,
    format_amount,
    format_asset,
    format_step,
    parse_amount,
    to_decimal,
)
from bitchange.trading import conditional, market_data
from bitchange.trading.candles import INTERVALS
from bitchange.trading.filters import Filters
from bitchange.trading.markets import assets, get_market
from bitchange.trading.service import OcoRequest, OrderRequest, depth
from bitchange.trading.tables import MarketSequence, Order, Trade

BOOK_LEVELS = 20
TAPE_SIZE = 40
CANDLES = 300
PRIVATE_ROWS = 30
NO_DATA = "—"

_sequences = MarketSequence.__table__
_trades = Trade.__table__
_orders = Order.__table__
_accounts = LedgerAccount.__table__
_entries = LedgerEntry.__table__
_ledger_transactions = LedgerTransaction.__table__


def _decimals(step_text: str) -> int:
    return len(step_text.split(".")[1]) if "." in step_text else 0


@dataclass(frozen=True)
class MarketView:
    """A market with the precisions needed to parse and show its numbers."""

    symbol: str
    base: str
    quote: str
    base_precision: int
    quote_precision: int
    base_decimals: int  # shown for balances
    quote_decimals: int
    price_decimals: int  # from the tick size
    amount_decimals: int  # from the lot size
    tick_size: int
    lot_size: int
    min_notional: int
    maker_fee_bps: int
    taker_fee_bps: int
    status: str

    @property
    def base_scale(self) -> int:
        return 10**self.base_precision

    @property
    def filters(self) -> Filters:
        return Filters(self.base, self.quote, self.base_precision, self.quote_precision,
                       self.quote_decimals, self.tick_size, self.lot_size, self.min_notional)

    def price(self, minor: int | None) -> str:
        if minor is None:
            return NO_DATA
        return format_amount(minor, self.quote_precision, self.price_decimals)

    def plain_price(self, minor: int) -> str:
        """A price as typed into the form: no thousands separators."""
        return self.price(minor).replace(",", "")

    def amount(self, minor: int | None) -> str:
        if minor is None:
            return NO_DATA
        return format_amount(minor, self.base_precision, self.amount_decimals)

    def quote_amount(self, minor: int) -> str:
        return format_asset(minor, self.quote_precision, self.quote_decimals)

    def base_amount(self, minor: int) -> str:
        return format_asset(minor, self.base_precision, self.base_decimals)

    def notional(self, price: int, quantity: int) -> int:
        return price * quantity // self.base_scale

    def info(self) -> dict[str, str]:
        return {
            "symbol": self.symbol, "base": self.base, "quote": self.quote,
            "tick": format_step(self.tick_size, self.quote_precision),
            "lot": format_step(self.lot_size, self.base_precision),
            "min_notional": f"{self.quote_amount(self.min_notional)} {self.quote}",
            "maker_fee": bps_text(self.maker_fee_bps), "taker_fee": bps_text(self.taker_fee_bps),
            "status": self.status, "price_decimals": str(self.price_decimals),
        }


def bps_text(bps: int) -> str:
    return f"{bps / 100:.2f}%"


def market_view(conn: Connection, symbol: str) -> MarketView | None:
    market = get_market(conn, symbol)
    if market is None:
        return None
    infos = assets(conn)
    base, quote = infos[market.base], infos[market.quote]
    return MarketView(
        symbol=market.symbol, base=market.base, quote=market.quote,
        base_precision=base.precision, quote_precision=quote.precision,
        base_decimals=base.display_decimals, quote_decimals=quote.display_decimals,
        price_decimals=_decimals(format_step(market.tick_size, quote.precision)),
        amount_decimals=_decimals(format_step(market.lot_size, base.precision)),
        tick_size=market.tick_size, lot_size=market.lot_size, min_notional=market.min_notional,
        maker_fee_bps=market.maker_fee_bps, taker_fee_bps=market.taker_fee_bps,
        status=market.status,
    )


def market_seq(conn: Connection, symbol: str) -> int:
    return conn.scalar(select(_sequences.c.seq).where(_sequences.c.symbol == symbol)) or 0


def all_seqs(conn: Connection) -> dict[str, int]:
    """Every market's sequence number: the one query the live watcher runs per tick."""
    return dict(conn.execute(select(_sequences.c.symbol, _sequences.c.seq)).all())


# --- public views ---------------------------------------------------------------------------


def book_rows(bids: list[tuple[int, int]], asks: list[tuple[int, int]],
              mv: MarketView) -> tuple[list[dict[str, str]], list[dict[str, str]], str]:
    """Bids best first; asks highest first (best ask next to the spread); with depth bars."""
    def side(levels: list[tuple[int, int]]) -> list[dict[str, str]]:
        rows, running = [], 0
        for price, quantity in levels:
            running += quantity
            rows.append({"price": mv.price(price), "p": mv.plain_price(price),
                         "amount": mv.amount(quantity), "total": mv.amount(running),
                         "cum": running})
        return rows  # type: ignore[return-value]

    bid_rows, ask_rows = side(bids), side(asks)
    deepest = max([r["cum"] for r in bid_rows + ask_rows] or [1]) or 1
    for r in bid_rows + ask_rows:
        r["depth"] = f"{int(r.pop('cum')) * 100 // deepest}%"  # type: ignore[call-overload]
    spread = NO_DATA
    if bids and asks:
        gap = asks[0][0] - bids[0][0]
        spread = f"{mv.price(gap)} ({gap * 10_000 // asks[0][0] / 100:.2f}%)"
    return bid_rows, list(reversed(ask_rows)), spread


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S")


def tape_rows(rows: list, mv: MarketView) -> list[dict[str, str]]:  # type: ignore[type-arg]
    return [{"id": str(r.id), "price": mv.price(r.price), "p": mv.plain_price(r.price),
             "amount": mv.amount(r.quantity), "time": _clock(r.created_at),
             "side": r.taker_side.lower()} for r in rows]


def candle_points(rows: list, mv: MarketView) -> list[dict[str, float]]:  # type: ignore[type-arg]
    """Candles for the chart (floats are for drawing only; money stays integer elsewhere)."""
    q, b = 10**mv.quote_precision, mv.base_scale
    return [{"time": r.open_time, "open": r.open / q, "high": r.high / q, "low": r.low / q,
             "close": r.close / q, "volume": r.volume / b} for r in rows]


def ticker_view(conn: Connection, mv: MarketView) -> dict[str, str]:
    t = market_data.ticker(conn, mv.symbol)
    change = t.change_bps
    return {
        "last": mv.price(t.last),
        "change": NO_DATA if change is None else f"{change / 100:+.2f}%",
        "direction": "flat" if not change else ("up" if change > 0 else "down"),
        "high": mv.price(t.high), "low": mv.price(t.low),
        "volume": f"{mv.amount(t.volume)} {mv.base}" if t.volume else NO_DATA,
        "quote_volume": f"{mv.quote_amount(t.quote_volume)} {mv.quote}" if t.volume else NO_DATA,
    }


@dataclass(frozen=True)
class MarketSnapshot:
    """Everything public about one market at one sequence number."""

    seq: int
    info: dict[str, str]
    bids: list[dict[str, str]]
    asks: list[dict[str, str]]
    spread: str
    trades: list[dict[str, str]]
    ticker: dict[str, str]
    last_trade_id: int


def market_snapshot(symbol: str) -> MarketSnapshot | None:
    """Read the seq first: a change that lands while this runs moves the seq again, so the
    watcher pushes once more and nobody is left on a stale view."""
    with db.read() as conn:
        seq = market_seq(conn, symbol)
        mv = market_view(conn, symbol)
    if mv is None:
        return None
    bids, asks = depth(symbol, BOOK_LEVELS)
    with db.read() as conn:
        tape = market_data.recent_trades(conn, symbol, TAPE_SIZE)
        ticker = ticker_view(conn, mv)
    bid_rows, ask_rows, spread = book_rows(bids, asks, mv)
    return MarketSnapshot(seq, mv.info(), bid_rows, ask_rows, spread, tape_rows(tape, mv),
                          ticker, tape[0].id if tape else 0)


def chart(conn: Connection, mv: MarketView, interval: str,
          limit: int = CANDLES) -> list[dict[str, float]]:
    return candle_points(market_data.candles(conn, mv.symbol, interval, limit), mv)


def trade_parties_since(conn: Connection, symbol: str, after_id: int) -> set[int]:
    """Users on either side of the market's trades after `after_id` (server-side only)."""
    rows = conn.execute(select(_trades.c.maker_user_id, _trades.c.taker_user_id)
                        .where(_trades.c.symbol == symbol, _trades.c.id > after_id))
    return {user for row in rows for user in row}


def order_owners_changed_since(conn: Connection, symbol: str, users: set[int],
                               since: datetime) -> set[int]:
    """Which of `users` had an order in the market change at or after `since` (a cancel,
    self-trade prevention, an admin's cancel-all), server-side only."""
    return set(conn.scalars(
        select(_orders.c.user_id).where(
            _orders.c.symbol == symbol, _orders.c.user_id.in_(users),
            _orders.c.updated_at >= since).distinct()))


def newest_ledger_transaction(conn: Connection) -> int:
    return conn.scalar(select(func.max(_ledger_transactions.c.id))) or 0


def owners_moved_since(conn: Connection, after_id: int, users: set[int]) -> set[int]:
    """Which of `users` had a balance change in a ledger transaction after `after_id` (a fill
    in another market, a deposit, a withdrawal...)."""
    return set(conn.scalars(
        select(_accounts.c.user_id).distinct()
        .select_from(_entries.join(_accounts, _accounts.c.id == _entries.c.account_id))
        .where(_entries.c.transaction_id > after_id, _accounts.c.user_id.in_(users))))


# --- private views --------------------------------------------------------------------------


def balances_view(conn: Connection, user_id: int, mv: MarketView) -> dict[str, str]:
    account = conn.scalar(select(_accounts.c.id).where(_accounts.c.user_id == user_id))
    held = balances_of(conn, account) if account is not None else {}
    base, quote = held.get(mv.base, (0, 0)), held.get(mv.quote, (0, 0))
    return {"base_available": mv.base_amount(base[0]), "base_locked": mv.base_amount(base[1]),
            "quote_available": mv.quote_amount(quote[0]),
            "quote_locked": mv.quote_amount(quote[1]),
            "base_raw": str(base[0]), "quote_raw": str(quote[0])}


_STATUS_TEXT = {"pending": "Pending", "open": "Open", "partially_filled": "Partly filled",
                "filled": "Filled", "cancelled": "Cancelled", "expired": "Expired"}
# Why an order ended without the trader asking, in plain words.
_ENDED_BECAUSE = {"MARKET_NO_LIQUIDITY": "no orders to fill it", "OCO": "the other OCO leg ran",
                  "TRIGGER_REJECTED": "the market's rules changed",
                  "INSUFFICIENT_BUDGET": "the amount buys less than one lot"}


def order_kind(r) -> str:  # type: ignore[no-untyped-def]
    """An order's type in plain words: limit, market, stop-limit, take-profit, trailing stop,
    OCO legs."""
    if r.stop_type is None:
        kind = "limit maker" if r.post_only and r.order_list_id is not None else r.kind
    elif r.trailing_delta is not None:
        kind = "trailing stop" + ("-limit" if r.kind == "limit" else "")
    elif r.stop_type == "STOP_LOSS":
        kind = "stop-limit" if r.kind == "limit" else "stop-market"
    else:
        kind = "take-profit" + ("-limit" if r.kind == "limit" else "")
    if r.order_list_id is not None:
        kind = f"OCO {kind}"
    return kind if r.tif == "GTC" else f"{kind} {r.tif}"


def trigger_text(r, mv: MarketView) -> str:  # type: ignore[no-untyped-def]
    """The condition a conditional order waits for: "≤ 59,950.00", "trail 1.5% (from
    61,000.00)", or '' for a plain order."""
    if r.stop_type is None:
        return ""
    sign = "≥" if conditional.is_above(r.stop_type, r.side) else "≤"
    if r.trailing_delta is None:
        return f"{sign} {mv.price(r.stop_price)}"
    text = f"trail {r.trailing_delta / 100:g}%"
    if r.trail_extreme is not None:
        return f"{text} from {mv.price(r.trail_extreme)}"
    if r.stop_price is not None:
        return f"{text} after {sign} {mv.price(r.stop_price)}"
    return text


def status_text(r) -> str:  # type: ignore[no-untyped-def]
    status = _STATUS_TEXT.get(r.status, r.status)
    if r.triggered_at is not None:
        status = f"Triggered · {status}"
    if r.expire_reason in _ENDED_BECAUSE and r.status in ("cancelled", "expired"):
        status = f"{status}: {_ENDED_BECAUSE[r.expire_reason]}"
    return status


def order_rows(rows: list, mv: MarketView) -> list[dict[str, str]]:  # type: ignore[type-arg]
    out = []
    for r in rows:
        average = mv.price(r.filled_quote * mv.base_scale // r.filled_quantity
                           if r.filled_quantity else None)
        out.append({
            "id": str(r.id), "time": r.created_at.strftime("%m-%d %H:%M:%S"),
            "side": r.side.lower(), "kind": order_kind(r),
            "price": mv.price(r.price) if r.price is not None and r.kind == "limit"
            else "market",
            "trigger": trigger_text(r, mv),
            "amount": (mv.amount(r.quantity) if r.quantity is not None
                       else f"{mv.quote_amount(r.quote_amount or 0)} {mv.quote}"),
            "filled": mv.amount(r.filled_quantity), "average": average,
            "status": status_text(r),
        })
    return out


def trigger_marks(rows: list, mv: MarketView) -> list[dict[str, str]]:  # type: ignore[type-arg]
    """The chart's marks of the user's pending triggers: a stop's price, or where a tracking
    trailing order would trigger now (prices as plain decimals, for drawing only)."""
    marks = []
    for r in rows:
        if r.status != "pending":
            continue
        if r.trailing_delta is not None and r.trail_extreme is not None:
            level = trail_level(Side(r.side), r.trail_extreme, r.trailing_delta)
        elif r.stop_price is not None:
            level = r.stop_price
        else:
            continue
        marks.append({"price": str(to_decimal(level, mv.quote_precision)),
                      "title": f"{order_kind(r)} #{r.id}", "side": r.side.lower()})
    return marks


def my_trade_rows(rows: list, mv: MarketView, user_id: int) -> list[dict[str, str]]:  # type: ignore[type-arg]
    out = []
    for r in rows:
        taker = r.taker_user_id == user_id
        side = r.taker_side if taker else ("SELL" if r.taker_side == "BUY" else "BUY")
        fee = r.taker_fee if taker else r.maker_fee
        fee_text = (f"{mv.base_amount(fee)} {mv.base}" if side == "BUY"
                    else f"{mv.quote_amount(fee)} {mv.quote}")
        out.append({"id": str(r.id), "time": r.created_at.strftime("%m-%d %H:%M:%S"),
                    "side": side.lower(), "role": "taker" if taker else "maker",
                    "price": mv.price(r.price), "amount": mv.amount(r.quantity),
                    "total": f"{mv.quote_amount(r.notional)} {mv.quote}", "fee": fee_text})
    return out


@dataclass(frozen=True)
class PrivateView:
    balances: dict[str, str]
    open_orders: list[dict[str, str]]
    history: list[dict[str, str]]
    trades: list[dict[str, str]]
    trigger_marks: list[dict[str, str]]


def private_view(user_id: int, symbol: str) -> PrivateView | None:
    with db.read() as conn:
        mv = market_view(conn, symbol)
        if mv is None:
            return None
        live_rows = market_data.orders_of(conn, user_id, symbol, open_only=True,
                                          limit=PRIVATE_ROWS)
        return PrivateView(
            balances_view(conn, user_id, mv),
            order_rows(live_rows, mv),
            order_rows(market_data.orders_of(conn, user_id, symbol, open_only=False,
                                             limit=PRIVATE_ROWS), mv),
            my_trade_rows(market_data.trades_of(conn, user_id, symbol, PRIVATE_ROWS), mv,
                          user_id),
            trigger_marks(live_rows, mv),
        )


# --- the order form -------------------------------------------------------------------------


class FormError(ValueError):
    """Input the form refuses before it reaches the service; the message is shown beside
    `field` ("price", "amount" or "total") when it is about one field, else for the form."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class OrderForm:
    side: str = "BUY"
    kind: str = "limit"
    price: str = ""
    amount: str = ""
    total: str = ""  # market buy: quote to spend (when `sized_by` is "total")
    sized_by: str = "amount"
    tif: str = "GTC"
    post_only: bool = False
    # Conditional kinds (stop_limit, stop_market, trailing, oco): the stop (or a trailing
    # order's activation) price, the trailing distance in percent, the OCO stop leg's limit.
    stop: str = ""
    trail: str = ""
    stop_limit: str = ""


FORM_KINDS = ("limit", "market", "stop_limit", "stop_market", "trailing", "oco")
PRICED_KINDS = ("limit", "stop_limit", "oco")  # the kinds with a limit price field


def _stop_type(side: str, stop: int, last: int | None) -> str:
    """Which Binance type a stop at `stop` is: a sell below the last price (or a buy above
    it) is a stop-loss, the other way a take-profit. At the last price itself it is a
    stop-loss, which the service refuses as triggering at once."""
    if last is None:
        return "STOP_LOSS"
    if side == "SELL":
        return "TAKE_PROFIT" if stop > last else "STOP_LOSS"
    return "TAKE_PROFIT" if stop < last else "STOP_LOSS"


def _trail_bps(text: str) -> int:
    try:
        bps = parse_amount(text, 2, what="Trailing distance")
    except AmountError as exc:
        raise FormError(str(exc), "trail") from None
    if not conditional.MIN_TRAILING_DELTA <= bps <= conditional.MAX_TRAILING_DELTA:
        raise FormError(f"Trail by {conditional.MIN_TRAILING_DELTA / 100:g}% to "
                        f"{conditional.MAX_TRAILING_DELTA / 100:g}%", "trail")
    return bps


def _parse(text: str, precision: int, what: str) -> int:
    try:
        return parse_amount(text, precision, what=what)
    except AmountError as exc:
        raise FormError(str(exc), what.lower()) from None


def parse_price(text: str, mv: MarketView) -> int:
    return _parse(text, mv.quote_precision, "Price")


def parse_quantity(text: str, mv: MarketView) -> int:
    return _parse(text, mv.base_precision, "Amount")


def _total_without_amount(form: OrderForm) -> bool:
    """A limit total typed that left the amount empty: it buys less than one lot at the price."""
    return form.kind == "limit" and not form.amount.strip() and bool(form.total.strip())


def build_request(form: OrderForm, mv: MarketView,
                  last: int | None = None) -> OrderRequest | OcoRequest:
    """The service request for what the trader typed (`last`: the market's last trade price,
    which tells a stop-loss from a take-profit); `FormError` says what is wrong."""
    if form.side not in ("BUY", "SELL"):
        raise FormError("Choose buy or sell")
    if form.kind in ("stop_limit", "stop_market", "trailing", "oco"):
        return _conditional_request(form, mv, last)
    if form.kind == "limit":
        tif = form.tif if form.tif in ("GTC", "IOC", "FOK") else "GTC"
        price = parse_price(form.price, mv)
        if _total_without_amount(form):
            raise FormError(mv.filters.unbuyable_total(
                _parse(form.total, mv.quote_precision, "Total")))
        return OrderRequest(side=form.side, kind="limit", price=price,
                            quantity=parse_quantity(form.amount, mv), tif=tif,
                            post_only=form.post_only and tif == "GTC")
    if form.kind == "market":
        if form.side == "BUY" and form.sized_by == "total":
            return OrderRequest(side="BUY", kind="market",
                                quote_amount=_parse(form.total, mv.quote_precision, "Total"))
        return OrderRequest(side=form.side, kind="market",
                            quantity=parse_quantity(form.amount, mv))
    raise FormError("Choose a limit or a market order")


def _sized_market(form: OrderForm, mv: MarketView) -> dict:  # type: ignore[type-arg]
    """A market order's size: a buy spends the total, a sell sells the amount."""
    if form.side == "BUY":
        return {"quote_amount": _parse(form.total, mv.quote_precision, "Total")}
    return {"quantity": parse_quantity(form.amount, mv)}


def _conditional_request(form: OrderForm, mv: MarketView,
                         last: int | None) -> OrderRequest | OcoRequest:
    if form.kind == "trailing":
        activation = _parse(form.stop, mv.quote_precision, "Stop") if form.stop.strip() else None
        bps = _trail_bps(form.trail)
        stop_type = (_stop_type(form.side, activation, last) if activation is not None
                     else "STOP_LOSS")
        return OrderRequest(side=form.side, kind="market", stop_type=stop_type,
                            stop_price=activation, trailing_delta=bps,
                            **_sized_market(form, mv))
    stop = _parse(form.stop, mv.quote_precision, "Stop")
    if form.kind == "stop_market":
        return OrderRequest(side=form.side, kind="market",
                            stop_type=_stop_type(form.side, stop, last), stop_price=stop,
                            **_sized_market(form, mv))
    price = parse_price(form.price, mv)
    quantity = parse_quantity(form.amount, mv)
    if form.kind == "stop_limit":
        return OrderRequest(side=form.side, kind="limit", price=price, quantity=quantity,
                            stop_type=_stop_type(form.side, stop, last), stop_price=stop)
    stop_leg = OrderRequest(side=form.side, kind="limit", stop_type="STOP_LOSS",
                            stop_price=stop,
                            price=_parse(form.stop_limit, mv.quote_precision, "Stop limit"))
    limit_leg = OrderRequest(side=form.side, kind="limit", price=price, post_only=True)
    above, below = (limit_leg, stop_leg) if form.side == "SELL" else (stop_leg, limit_leg)
    return OcoRequest(side=form.side, quantity=quantity, above=above, below=below)


def last_trade_price(symbol: str) -> int | None:
    """The market's last trade price (what stops compare with), None before its first trade."""
    with db.read() as conn:
        return conn.scalar(select(MarketSequence.__table__.c.last_price)
                           .where(MarketSequence.__table__.c.symbol == symbol))


def preview(form: OrderForm, mv: MarketView, last: int | None) -> str:
    """What a conditional order will do, in plain words ('' while incomplete): "If the last
    price falls to 60,000.00, sell 0.5 BTC at 59,900.00"."""
    try:
        request = _conditional_request(form, mv, last) if form.kind in (
            "stop_limit", "stop_market", "trailing", "oco") else None
    except FormError:
        return ""
    if request is None:
        return ""
    verb = "buy" if form.side == "BUY" else "sell"

    def what(r: OrderRequest, quantity: int | None = None) -> str:
        size = quantity if quantity is not None else r.quantity
        sized = (f"{verb} {mv.amount(size)} {mv.base}" if size is not None
                 else f"{verb} {mv.base} with {mv.quote_amount(r.quote_amount or 0)} {mv.quote}")
        return f"{sized} at {mv.price(r.price)}" if r.kind == "limit" else f"{sized} at market"

    def moves(r: OrderRequest) -> str:
        assert r.stop_type is not None and r.stop_price is not None
        rises = conditional.is_above(r.stop_type, r.side)
        return f"{'rises' if rises else 'falls'} to {mv.price(r.stop_price)}"

    if isinstance(request, OcoRequest):
        limit_leg, stop_leg = ((request.above, request.below) if form.side == "SELL"
                               else (request.below, request.above))
        first = what(limit_leg, request.quantity)
        return (f"{first[0].upper()}{first[1:]}; or, if the last price "
                f"{moves(stop_leg)}, {what(stop_leg, request.quantity)}. When one runs, the "
                "other is cancelled.")
    if request.trailing_delta is not None:
        direction = "falls" if form.side == "SELL" else "rises"
        extreme = "highest" if form.side == "SELL" else "lowest"
        start = f"Once the last price {moves(request)}, " if request.stop_price else ""
        text = (f"{what(request)} when the price {direction} "
                f"{request.trailing_delta / 100:g}% from its {extreme} since then")
        return start + text if start else text[0].upper() + text[1:]
    return f"If the last price {moves(request)}, {what(request)}"


def conditional_errors(form: OrderForm, mv: MarketView) -> tuple[str, str, str]:
    """Inline errors of the stop, trailing distance and stop-limit fields."""
    errors = []
    for text, what, needed in ((form.stop, "Stop", form.kind != "trailing"),
                               (form.trail, "Trailing distance", False),
                               (form.stop_limit, "Stop limit", False)):
        if what == "Trailing distance":
            errors.append(_trail_problem(text) if text.strip() else "")
            continue
        value, problem = _typed(text, mv.quote_precision, what)
        if value is not None:
            problem = mv.filters.price_problem(value).replace("Price", what)
        errors.append(problem if text.strip() or not needed else "")
    return errors[0], errors[1], errors[2]


def _trail_problem(text: str) -> str:
    try:
        _trail_bps(text)
    except FormError as exc:
        return str(exc)
    return ""


def _typed(text: str, precision: int, what: str) -> tuple[int | None, str]:
    """A field's value (None while empty or invalid) and its format error."""
    if not text.strip():
        return None, ""
    try:
        return parse_amount(text, precision, what=what), ""
    except AmountError as exc:
        return None, str(exc)


def form_errors(form: OrderForm, mv: MarketView) -> tuple[str, str, str]:
    """Inline errors of the price, amount and total fields while the trader types: the
    number's format, then the market's filters ('' when fine or still empty)."""
    filters = mv.filters
    price, price_error = (_typed(form.price, mv.quote_precision, "Price")
                          if form.kind in PRICED_KINDS else (None, ""))
    amount, amount_error = _typed(form.amount, mv.base_precision, "Amount")
    total, total_error = _typed(form.total, mv.quote_precision, "Total")
    if price is not None:
        price_error = filters.price_problem(price)
    if amount is not None:
        amount_error = filters.amount_problem(amount)
    if form.kind in PRICED_KINDS and price is not None and amount is not None and not (
            price_error or amount_error):
        total_error = filters.total_problem(mv.notional(price, amount))
    elif _total_without_amount(form) and total is not None and price is not None and not (
            price_error):
        total_error = filters.unbuyable_total(total)
    elif ((form.kind == "market" and form.sized_by == "total")
          or (form.kind in ("stop_market", "trailing") and form.side == "BUY")) and (
            total is not None):
        total_error = filters.spend_problem(total)
    return price_error, amount_error, total_error


def estimate(form: OrderForm, mv: MarketView) -> tuple[str, str]:
    """(total, fee) texts for the form; the fee is the taker fee, the most it can be."""
    bps = max(mv.taker_fee_bps, mv.maker_fee_bps)
    try:
        at_market = form.kind in ("market", "stop_market", "trailing")
        if at_market and form.side == "BUY" and form.sized_by == "total":
            spend = _parse(form.total, mv.quote_precision, "Total")
            return (f"{mv.quote_amount(spend)} {mv.quote}", f"≈ {bps_text(bps)} of what you get")
        quantity = parse_quantity(form.amount, mv)
        if at_market:
            return ("at market", f"≈ {bps_text(bps)} of what you get")
        notional = mv.notional(parse_price(form.price, mv), quantity)
    except FormError:
        return ("", "")
    if form.side == "BUY":
        fee = f"≤ {mv.base_amount(-(-quantity * bps // 10_000))} {mv.base}"
    else:
        fee = f"≤ {mv.quote_amount(-(-notional * bps // 10_000))} {mv.quote}"
    return (mv.quote_amount(notional).replace(",", ""), fee)


def amount_for_total(total_text: str, price_text: str, mv: MarketView) -> str:
    """Limit order: the amount (rounded down to the lot) that a typed total buys."""
    try:
        total = _parse(total_text, mv.quote_precision, "Total")
        price = parse_price(price_text, mv)
    except FormError:
        return ""
    quantity = total * mv.base_scale // price // mv.lot_size * mv.lot_size
    return mv.amount(quantity).replace(",", "") if quantity else ""


def fraction_of_available(form: OrderForm, percent: int, available_base: int,
                          available_quote: int, mv: MarketView) -> OrderForm:
    """The form with the amount (or spend) set to `percent`% of what is available."""
    percent = max(0, min(100, percent))
    if form.side == "SELL":
        quantity = available_base * percent // 100 // mv.lot_size * mv.lot_size
        return replace(form, amount=mv.amount(quantity).replace(",", "") if quantity else "",
                       sized_by="amount")
    spend = available_quote * percent // 100
    if form.kind == "market":
        return replace(form, total=mv.quote_amount(spend).replace(",", "") if spend else "",
                       amount="", sized_by="total")
    try:
        price = parse_price(form.price, mv)
    except FormError:
        raise FormError("Enter a price first", "price") from None
    quantity = spend * mv.base_scale // price // mv.lot_size * mv.lot_size
    return replace(form, amount=mv.amount(quantity).replace(",", "") if quantity else "",
                   sized_by="amount")


def valid_interval(interval: str) -> str:
    return interval if interval in INTERVALS else "1m"
