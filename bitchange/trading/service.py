"""Orders: validate, hold, match, settle, persist — all of one order in one transaction.

One writer per market, across threads, processes and app nodes:
- a process serialises its own threads on the market's in-memory book with a lock;
- every writer locks the market's `market_sequences` row (`FOR UPDATE` on PostgreSQL; SQLite's
  `BEGIN IMMEDIATE` already holds the database's write lock) before reading or changing the book;
- the row's `seq` grows with every change of the book, so a process whose in-memory book has
  another `seq` knows it is stale; every order row records the `seq` of its last change in the
  book (`book_seq`), so the process applies just the orders changed since its own `seq`, and
  reloads the whole book only after a rules or status change (`rules_seq`);
- if anything fails after the engine was touched, the transaction rolls back and the process
  drops its in-memory book, which is rebuilt from the database on next use; so a transaction
  PostgreSQL aborts on a deadlock is simply run again (`db.retry`), from a fresh book;
- the balances a placement or cancel touches are locked together, in the ledger's one order,
  after the engine ran (only then are the counterparties known) and before the first change.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, literal_column, or_, select, update

from bitchange import db, ledger
from bitchange.clock import now
from bitchange.db import retry
from bitchange.db.models import LedgerAccount, Market, User
from bitchange.db.prepared import Prepared, insert_row
from bitchange.engine import (
    STP,
    Cancelled,
    Expired,
    MarketRules,
    OrderBook,
    PendingOrder,
    Rejected,
    RestingOrder,
    Side,
    Status,
    TimeInForce,
    Trade,
    Trailing,
    Triggered,
)
from bitchange.ledger import InsufficientFunds
from bitchange.money import MAX_MINOR, format_step
from bitchange.ops import metrics
from bitchange.trading import conditional
from bitchange.trading.candles import record_trades
from bitchange.trading.filters import Filters
from bitchange.trading.markets import (
    AssetInfo,
    MarketConfigError,
    MarketInfo,
    assets,
    check_market_filters,
    get_market,
)
from bitchange.trading.tables import MarketSequence, Order
from bitchange.trading.tables import Trade as TradeRow

log = logging.getLogger(__name__)
_orders = Order.__table__
_trades = TradeRow.__table__
_sequences = MarketSequence.__table__
_users = User.__table__
_ledger_accounts = LedgerAccount.__table__

OPEN_STATUSES = ("open", "partially_filled")  # resting in the book
PENDING = "pending"  # a conditional order waiting for its trigger
LIVE_STATUSES = (PENDING, *OPEN_STATUSES)  # what a trader can still cancel
_STATUS = {
    Status.NEW: "open",
    Status.PARTIALLY_FILLED: "partially_filled",
    Status.FILLED: "filled",
    Status.EXPIRED: "expired",
    Status.PENDING: PENDING,
}


class TradingError(ValueError):
    """A refused order or cancel; the message is shown to the trader. Nothing was written.
    `reason` names the rule for programs (the API maps it to Binance's codes): PRICE_FILTER,
    LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL, INSUFFICIENT_BALANCE, MARKET_CLOSED, WOULD_TAKE,
    DUPLICATE_ORDER, UNKNOWN_ORDER, ACCOUNT_DISABLED, NO_LIQUIDITY, WOULD_TRIGGER,
    TRAILING_DELTA, STOP_PRICE, OCO_PRICES, OCO_TYPES, NOT_AUTHORIZED, CANCEL_RESTRICTED; ''
    for anything else."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class UnknownMarket(TradingError):
    def __init__(self, symbol: str) -> None:
        super().__init__(f"Unknown market {symbol}")


@dataclass(frozen=True)
class OrderRequest:
    side: str  # BUY | SELL
    kind: str  # limit | market
    price: int | None = None  # quote minor units per whole base unit
    quantity: int | None = None  # base minor units
    quote_amount: int | None = None  # market buy: quote minor units to spend
    tif: str = "GTC"
    post_only: bool = False
    stp: str = "EXPIRE_TAKER"  # self-trade prevention: EXPIRE_TAKER | EXPIRE_MAKER | EXPIRE_BOTH
    client_order_id: str | None = None  # unique among the user's open orders of the market
    # A conditional order (see `trading.conditional`): STOP_LOSS | TAKE_PROFIT; `kind` is what
    # runs when it triggers (limit at `price`, or market).
    stop_type: str | None = None
    stop_price: int | None = None  # quote minor units per whole base unit
    trailing_delta: int | None = None  # bps


@dataclass(frozen=True)
class OcoRequest:
    """An OCO list (Binance `orderList/oco`): two legs of one side and quantity, one above the
    last price and one below; each leg is an `OrderRequest` (a limit maker is a post-only
    limit; the others are conditional)."""

    side: str
    quantity: int
    above: OrderRequest
    below: OrderRequest
    list_client_order_id: str | None = None  # unique among the trader's live lists


@dataclass(frozen=True)
class Fill:
    """One trade of a placed order as the taker, as recorded."""

    trade_id: int
    price: int
    quantity: int
    fee: int  # the taker's, in what the order receives


@dataclass(frozen=True)
class PlacedOrder:
    order_id: int
    status: str
    filled: int
    quote: int
    fee: int
    remaining: int
    trades: int
    affected_users: frozenset[int]
    # Why the rest of it ended without a fill (the engine's `Expired.reason`: IOC, FOK, STP,
    # MARKET_NO_LIQUIDITY, INSUFFICIENT_BUDGET); '' unless the status is expired.
    expired_because: str = ""
    # The conditional orders this order's trades set off (in activation order).
    triggered: tuple[int, ...] = ()
    # The order's own trades as the taker, in order.
    fills: tuple[Fill, ...] = ()
    # The order's row (every column of `orders`) as this placement committed it: what the
    # API answers with, without reading it back.
    row: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlacedList:
    order_list_id: int
    above: PlacedOrder
    below: PlacedOrder


class _LiveBook:
    """A process's copy of one market's book, valid while `seq` equals the database's."""

    __slots__ = ("base", "book", "conn", "conn_url", "lock", "market", "quote", "seq",
                 "touched", "waiting")

    def __init__(self) -> None:
        self.book: OrderBook | None = None
        # The market's rules and assets as of `seq` (rule and status changes bump it).
        self.market: MarketInfo | None = None
        self.base: AssetInfo | None = None
        self.quote: AssetInfo | None = None
        self.seq = -1
        self.lock = threading.Lock()
        self.waiting: deque[_Command] = deque()  # see `_run_on_market`
        self.touched = False
        # The market's writer connection, held across orders (no pool round trip per order).
        self.conn: Connection | None = None
        self.conn_url = ""

    def connection(self) -> Connection:
        conn = self.conn
        if conn is None or conn.closed or conn.invalidated or self.conn_url != db.current_url():
            self.close()
            self.conn_url, self.conn = db.writer_connection()
        return self.conn  # type: ignore[return-value]

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


_books: dict[str, _LiveBook] = {}
_books_guard = threading.Lock()


def _live(symbol: str) -> _LiveBook:
    with _books_guard:
        return _books.setdefault(symbol, _LiveBook())


def _forget(symbol: str, live: _LiveBook) -> None:
    """Drop the book of a symbol that is no market, with its writer connection: otherwise every
    unknown symbol a client sends would keep one pooled connection for good."""
    with _books_guard:
        if _books.get(symbol) is live:
            del _books[symbol]
    live.close()


def forget_books() -> None:
    """Drop every in-memory book (tests simulate a restart with it)."""
    with _books_guard:
        for live in _books.values():
            with live.lock:
                live.close()
        _books.clear()


_LOCK_MARKET = Prepared(select(_sequences.c.seq)
                        .where(_sequences.c.symbol == bindparam("symbol")).with_for_update())


def _lock_market(conn: Connection, symbol: str) -> int:
    seq = _LOCK_MARKET.scalar(conn, {"symbol": symbol})
    if seq is None:
        raise UnknownMarket(symbol)
    return seq


def rules_for(market: MarketInfo, base: AssetInfo) -> MarketRules:
    return MarketRules(
        tick_size=market.tick_size, lot_size=market.lot_size, min_notional=market.min_notional,
        base_scale=10**base.precision, maker_fee_bps=market.maker_fee_bps,
        taker_fee_bps=market.taker_fee_bps,
    )


def open_orders_of_market(conn: Connection, symbol: str) -> list[RestingOrder]:
    rows = conn.execute(
        select(_orders.c.id, _orders.c.user_id, _orders.c.side, _orders.c.price,
               _orders.c.quantity, _orders.c.remaining)
        .where(_orders.c.symbol == symbol, _orders.c.status.in_(OPEN_STATUSES))
        .order_by(_orders.c.id)
    )
    return [RestingOrder(r.id, r.user_id, Side(r.side), r.price, r.quantity, r.remaining)
            for r in rows]


class _BookRow(NamedTuple):
    """An order row as the book needs it (the columns of `_BOOK_COLUMNS`)."""

    id: int
    user_id: int
    side: str
    kind: str
    tif: str
    price: int | None
    quantity: int | None
    quote_amount: int | None
    remaining: int
    status: str
    stop_type: str | None
    stop_price: int | None
    trailing_delta: int | None
    trail_extreme: int | None
    order_list_id: int | None


_BOOK_COLUMNS = (_orders.c.id, _orders.c.user_id, _orders.c.side, _orders.c.kind,
                 _orders.c.tif, _orders.c.price, _orders.c.quantity, _orders.c.quote_amount,
                 _orders.c.remaining, _orders.c.status, _orders.c.stop_type,
                 _orders.c.stop_price, _orders.c.trailing_delta, _orders.c.trail_extreme,
                 _orders.c.order_list_id)


def _load_conditional(conn: Connection, book: OrderBook, symbol: str) -> None:
    """The market's pending orders, OCO links and last price into a freshly loaded book."""
    rows = conn.execute(select(*_BOOK_COLUMNS).where(
        _orders.c.symbol == symbol, _orders.c.status == PENDING).order_by(_orders.c.id)).all()
    for row in rows:
        book.restore_pending(conditional.pending_of(row))
    legs = conn.execute(select(_orders.c.id, _orders.c.order_list_id).where(
        _orders.c.symbol == symbol, _orders.c.order_list_id.is_not(None),
        _orders.c.status.in_(LIVE_STATUSES)).order_by(_orders.c.id)).all()
    _link_lists(book, legs)
    book.last_price = _LAST_PRICE.scalar(conn, {"symbol": symbol})


def _link_lists(book: OrderBook, legs: list) -> None:  # type: ignore[type-arg]
    """Link the OCO pairs among `legs` ((id, order_list_id) of live orders) not linked yet."""
    by_list: dict[int, list[int]] = defaultdict(list)
    for order_id, list_id in legs:
        by_list[list_id].append(order_id)
    for ids in by_list.values():
        if len(ids) == 2 and book.partner_of(ids[0]) is None:
            book.link(*ids)


_LAST_PRICE = Prepared(select(_sequences.c.last_price)
                       .where(_sequences.c.symbol == bindparam("symbol")))


def _book(conn: Connection, live: _LiveBook, symbol: str, seq: int) -> OrderBook:
    """The in-memory book as of the database's `seq`: if other writers moved the market, the
    orders they changed are applied to it; after a rules change, or when that fails, it is
    reloaded whole."""
    if live.book is not None and live.seq != seq:
        rules_seq = _RULES_SEQ.scalar(conn, {"symbol": symbol})
        if rules_seq is not None and rules_seq <= live.seq:
            try:
                _catch_up(conn, live.book, symbol, live.seq)
                live.seq = seq
            except ValueError:
                log.warning("catching up the %s book failed; reloading it", symbol,
                            exc_info=True)
                live.book = None
        else:
            live.book = None
    if live.book is None or live.seq != seq:
        book, market, base, quote = _rebuild(conn, symbol)
        live.book, live.seq = book, seq
        live.market, live.base, live.quote = market, base, quote
    return live.book


def _rebuild(conn: Connection, symbol: str) -> tuple[OrderBook, MarketInfo, AssetInfo,
                                                     AssetInfo]:
    market = get_market(conn, symbol)
    if market is None:
        raise UnknownMarket(symbol)
    infos = assets(conn)
    base, quote = infos[market.base], infos[market.quote]
    book = OrderBook(rules_for(market, base))
    book.load(open_orders_of_market(conn, symbol))
    _load_conditional(conn, book, symbol)
    return book, market, base, quote


def book_from_database(conn: Connection, symbol: str) -> OrderBook:
    """The market's book rebuilt from its open and pending orders, as a starting process builds
    it."""
    return _rebuild(conn, symbol)[0]


def _catch_up(conn: Connection, book: OrderBook, symbol: str, since: int) -> None:
    """Make the book match the orders changed after seq `since`: each is set to its row's
    state, so applying a change twice is harmless. Removals and fills first, then the new
    orders in id order (a new bid may rest where a removed ask was); pending orders and
    their trailing state likewise, then the OCO links of the new legs and the last price."""
    cursor = _CHANGED_ORDERS.execute(conn, {"symbol": symbol, "since": since})
    rows = cursor.fetchall()
    cursor.close()
    added: list[RestingOrder] = []
    pending: list[PendingOrder] = []
    legs = []
    for raw in rows:
        row = _BookRow(*raw)
        order_id, status = row.id, row.status
        if status == PENDING:
            order = conditional.pending_of(row)
            current = book.get_pending(order_id)
            if current is None:
                pending.append(order)
            elif current != order:
                book.update_pending(order)
        else:
            if book.get_pending(order_id) is not None:  # triggered or cancelled meanwhile
                book.cancel(order_id)
            resting = book.get(order_id)
            if status not in OPEN_STATUSES:
                if resting is not None:
                    book.cancel(order_id)
            elif resting is None:
                added.append(RestingOrder(order_id, row.user_id, Side(row.side), row.price,
                                          row.quantity, row.remaining))
            elif resting.remaining != row.remaining:
                book.reduce(order_id, row.remaining)
        if row.order_list_id is not None and status in LIVE_STATUSES:
            legs.append((order_id, row.order_list_id))
    for resting_order in added:
        book.restore(resting_order)
    for order in pending:
        book.restore_pending(order)
    _link_lists(book, legs)
    book.last_price = _LAST_PRICE.scalar(conn, {"symbol": symbol})


_RULES_SEQ = Prepared(select(_sequences.c.rules_seq)
                      .where(_sequences.c.symbol == bindparam("symbol")))
_CHANGED_ORDERS = Prepared(
    select(*_BOOK_COLUMNS)
    .where(_orders.c.symbol == bindparam("symbol"), _orders.c.book_seq > bindparam("since"))
    .order_by(_orders.c.id))


_BUMP = Prepared(update(_sequences).where(_sequences.c.symbol == bindparam("b_symbol"))
                 .values(seq=bindparam("b_seq")))
_BUMP_PRICE = Prepared(update(_sequences).where(_sequences.c.symbol == bindparam("b_symbol"))
                       .values(seq=bindparam("b_seq"), last_price=bindparam("b_price")))
_BUMP_RULES = Prepared(update(_sequences).where(_sequences.c.symbol == bindparam("b_symbol"))
                       .values(seq=bindparam("b_seq"), rules_seq=bindparam("b_seq")))


def _bump(conn: Connection, live: _LiveBook, symbol: str, seq: int, *,
          rules: bool = False, last_price: int | None = None) -> None:
    """The market moved to `seq + 1`; `rules`: its rules or status changed, so other
    processes reload it rather than catch up; `last_price`: it traded, last at that price."""
    if last_price is not None:
        _BUMP_PRICE.execute(conn, {"b_symbol": symbol, "b_seq": seq + 1, "b_price": last_price})
    else:
        (_BUMP_RULES if rules else _BUMP).execute(conn, {"b_symbol": symbol, "b_seq": seq + 1})
    live.seq = seq + 1


class _Command:
    """Work waiting for the market's writer (see `_run_on_market`), and how it ended."""

    __slots__ = ("error", "finished", "value", "work")

    def __init__(self, work) -> None:  # type: ignore[no-untyped-def]
        self.work = work
        self.finished = False
        self.value: Any = None
        self.error: BaseException | None = None

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class _Undone(Exception):
    """A command of a group failed in a way its savepoint cannot undo (the engine had moved,
    or an unexpected error): the group's transaction is rolled back, each command runs alone."""


# Commands run together in one transaction at most (a bound on the time one commit waits).
MAX_GROUP = 32


def _group_limit() -> int:
    """SQLite has one write lock for the whole database, so a group changes no lock order.
    PostgreSQL locks rows: a group would take its commands' balance rows out of their one
    order (`ledger.lock_balances`), and commits there are already grouped by the server."""
    return MAX_GROUP if db.is_sqlite() else 1


def _run_on_market(symbol: str, work):  # type: ignore[no-untyped-def]
    """Run `work(conn, live, seq)` as the market's only writer, in one transaction; again
    after a deadlock (the failed attempt left neither rows nor, see `_attempt`, book).

    Group commit (on SQLite, see `_group_limit`): work that arrives while the writer is busy
    waits in `live.waiting`; the next thread to hold the lock runs all of it in one
    transaction (one commit and one disk sync for the group), each command in a savepoint,
    so a refused one changes nothing and the others still commit. Nothing is acknowledged
    before the group's commit."""
    live = _live(symbol)
    command = _Command(work)
    live.waiting.append(command)
    with live.lock:
        limit = _group_limit()
        while not command.finished:  # run by an earlier holder, or now by this thread
            group = [live.waiting.popleft() for _ in range(min(len(live.waiting), limit))]
            _run_group(symbol, live, group)
            if any(isinstance(c.error, UnknownMarket) for c in group):
                _forget(symbol, live)
    return command.outcome()


def _run_group(symbol: str, live: _LiveBook, group: list[_Command]) -> None:
    """Run the commands and record each one's outcome; a lone command as before."""
    alone = group
    if len(group) > 1:
        try:
            outcomes = retry.repeating(lambda: _attempt_together(symbol, live, group))
        except _Undone:
            outcomes = None
        except Exception as exc:  # the group's transaction failed as a whole (e.g. storage)
            outcomes = [(None, exc)] * len(group)
        if outcomes is not None:
            for command, (value, error) in zip(group, outcomes, strict=True):
                command.value, command.error, command.finished = value, error, True
            alone = []
    for command in alone:
        try:
            command.value = retry.repeating(lambda c=command: _attempt(symbol, live, c.work))
        except Exception as exc:
            command.error = exc
        command.finished = True


def _attempt(symbol: str, live: _LiveBook, work):  # type: ignore[no-untyped-def]
    live.touched = False
    conn = live.connection()
    try:
        with conn.begin():
            seq = _lock_market(conn, symbol)
            return work(conn, live, seq)
    except BaseException:
        if live.touched:  # the engine moved but the database did not: rebuild next time
            live.book, live.seq = None, -1
        raise


def _savepoint(conn: Connection, statement: str) -> None:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(statement)
    cursor.close()


def _attempt_together(symbol: str, live: _LiveBook,
                      group: list[_Command]) -> list[tuple[Any, Exception | None]]:
    """The group in one transaction: each command's value, or the `TradingError` that
    refused it before the engine moved (rolled back to its savepoint)."""
    conn = live.connection()
    outcomes: list[tuple[Any, Exception | None]] = []
    moved = False
    try:
        with conn.begin():
            seq = _lock_market(conn, symbol)
            for command in group:
                live.touched = False
                _savepoint(conn, "SAVEPOINT command")
                try:
                    value = command.work(conn, live, seq)
                except Exception as exc:
                    moved = moved or live.touched
                    if retry.is_conflict(exc):
                        raise  # the whole group runs again
                    if live.touched or not isinstance(exc, TradingError):
                        raise _Undone from exc
                    _savepoint(conn, "ROLLBACK TO SAVEPOINT command")
                    _savepoint(conn, "RELEASE SAVEPOINT command")
                    ledger.forget_locks(conn)  # PostgreSQL released what it locked since
                    if live.seq == seq + 1:  # its bump was rolled back with it
                        live.seq = seq
                    outcomes.append((None, exc))
                    continue
                moved = moved or live.touched
                outcomes.append((value, None))
                _savepoint(conn, "RELEASE SAVEPOINT command")
                # The database's seq for the next command: bumped or not. (The book's own
                # seq may still lag, if this command never looked at the book: the next one
                # then catches it up.)
                if live.seq == seq + 1:
                    seq += 1
    except BaseException:
        if moved:  # the engine moved but the database did not: rebuild next time
            live.book, live.seq = None, -1
        raise
    return outcomes


# --- validation with messages in the trader's units ----------------------------------------


def filters_of(market: MarketInfo, base: AssetInfo, quote: AssetInfo) -> Filters:
    return Filters(base.code, quote.code, base.precision, quote.precision,
                   quote.display_decimals, market.tick_size, market.lot_size,
                   market.min_notional)


def _validate(request: OrderRequest, market: MarketInfo, base: AssetInfo,
              quote: AssetInfo) -> None:
    if request.side not in ("BUY", "SELL"):
        raise TradingError("Choose buy or sell")
    if request.kind not in ("limit", "market"):
        raise TradingError("Choose a limit or a market order")
    if request.tif not in ("GTC", "IOC", "FOK"):
        raise TradingError("Time in force must be GTC, IOC or FOK")
    if request.stp not in STP.__members__:
        raise TradingError("Self-trade prevention must be EXPIRE_TAKER, EXPIRE_MAKER or "
                           "EXPIRE_BOTH")
    if any(value is not None and value >= MAX_MINOR
           for value in (request.price, request.quantity, request.quote_amount)):
        raise TradingError("The order is too large")
    filters = filters_of(market, base, quote)
    if request.kind == "limit":
        if request.price is None or request.price <= 0:
            raise TradingError("Enter a price")
        if request.quantity is None or request.quantity <= 0:
            raise TradingError("Enter an amount")
        _refuse(filters.price_problem(request.price), "PRICE_FILTER")
        _refuse(filters.amount_problem(request.quantity), "LOT_SIZE")
        if request.post_only and request.tif != "GTC":
            raise TradingError("Post-only orders rest in the book, so they must be GTC")
        notional = request.price * request.quantity // 10**base.precision
        if notional >= MAX_MINOR:
            raise TradingError("The order is too large")
        _refuse(filters.total_problem(notional), "NOTIONAL")
        return
    if request.post_only:
        raise TradingError("Market orders cannot be post-only")
    if request.quote_amount is not None:
        if request.quantity is not None:
            raise TradingError("Size a market order by its amount or by its total, not both")
        if request.side == "BUY":
            _refuse(filters.spend_problem(request.quote_amount), "NOTIONAL")
            return
        if request.stop_type is not None:
            raise TradingError("A stop-market sell is sized by its amount")
        _refuse(filters.total_problem(request.quote_amount)
                or ("Enter the total to receive" if request.quote_amount <= 0 else ""),
                "NOTIONAL")
        return
    if request.quantity is None or request.quantity <= 0:
        raise TradingError("Enter an amount")
    _refuse(filters.amount_problem(request.quantity), "MARKET_LOT_SIZE")


def _refuse(problem: str, reason: str) -> None:
    if problem:
        raise TradingError(problem, reason)


def _would_take(book: OrderBook, side: str, price: int) -> bool:
    if side == "BUY":
        best_ask = book.best_ask()
        return best_ask is not None and price >= best_ask
    best_bid = book.best_bid()
    return best_bid is not None and price <= best_bid


def _hold_needed(request: OrderRequest, book: OrderBook, user_id: int, market: MarketInfo,
                 base: AssetInfo, quote: AssetInfo) -> tuple[str, int]:
    if request.side == "SELL":
        return base.code, request.quantity or 0
    if request.kind == "limit":
        return quote.code, request.price * request.quantity // 10**base.precision  # type: ignore[operator]
    if request.quote_amount is not None:
        return quote.code, request.quote_amount
    fillable, cost = book.market_buy_cost(request.quantity or 0, owner=user_id)
    if not fillable:
        raise TradingError(f"No sell orders in {market.symbol} to buy from", "NO_LIQUIDITY")
    return quote.code, cost


def _quantity_to_sell(book: OrderBook, user_id: int, market: MarketInfo, base: AssetInfo,
                      to_receive: int) -> int:
    """The whole lots a market sell offers to receive `to_receive` quote, at most."""
    quantity = book.market_sell_quantity(to_receive, owner=user_id)
    if quantity:
        return quantity
    if not book.market_sell_quantity(MAX_MINOR, owner=user_id):
        raise TradingError(f"No buy orders in {market.symbol} to sell to", "NO_LIQUIDITY")
    lot = format_step(market.lot_size, base.precision)
    raise TradingError(f"The total is less than one lot ({lot} {base.code}) at the best bid",
                       "LOT_SIZE")


# --- placing --------------------------------------------------------------------------------


Authorize = Callable[[Connection], bool]


def place_order(user_id: int, symbol: str, request: OrderRequest, *,
                authorize: Authorize | None = None) -> PlacedOrder:
    """Place an order for a signed-in user. Raises `TradingError` with the reason if refused.
    `authorize(conn)`, if given, is the caller's right to act, checked first in the
    placement's own transaction (the API's key: a revoke committed before it counts, and the
    key is read on the writer's warm connection rather than in a read of its own); False
    refuses the order with reason NOT_AUTHORIZED."""
    elapsed = metrics.timer()
    try:
        placed = _run_on_market(symbol, lambda conn, live, seq: _place(conn, live, seq, user_id,
                                                                       symbol, request,
                                                                       authorize))
    except UnknownMarket:
        raise  # not a market: no series of its own
    except TradingError:
        metrics.order_placed(symbol, "rejected", elapsed())
        raise
    except Exception:
        metrics.order_placed(symbol, "error", elapsed())
        raise
    metrics.order_placed(symbol, placed.status, elapsed(), placed.trades)
    return placed


_TRADER = Prepared(
    select(_users.c.email_verified_at, _users.c.frozen_at, _ledger_accounts.c.id)
    .select_from(_users.outerjoin(_ledger_accounts, _ledger_accounts.c.user_id == _users.c.id))
    .where(_users.c.id == bindparam("user_id")))


def _check_trader(conn: Connection, user_id: int) -> int:
    """Refuse unknown, frozen and unverified users; returns the trader's ledger account."""
    user = _TRADER.first(conn, {"user_id": user_id})
    if user is None:
        raise TradingError("Sign in to trade")
    verified_at, frozen_at, account = user
    if frozen_at is not None:
        raise TradingError("Your account is frozen; contact support", "ACCOUNT_DISABLED")
    if verified_at is None:
        raise TradingError("Verify your email address before trading", "ACCOUNT_DISABLED")
    return account if account is not None else ledger.account_for_user(conn, user_id)


def _place(conn: Connection, live: _LiveBook, seq: int, user_id: int, symbol: str,
           request: OrderRequest, authorize: Authorize | None = None) -> PlacedOrder:
    if authorize is not None and not authorize(conn):
        raise TradingError("This key may not place orders now", "NOT_AUTHORIZED")
    account = _check_trader(conn, user_id)
    book = _book(conn, live, symbol, seq)
    market, base, quote = live.market, live.base, live.quote
    assert market is not None and base is not None and quote is not None
    _check_open_and_valid(request, market, base, quote)
    _check_client_id(conn, user_id, symbol, request)
    _check_against_book(request, book, market, base, quote)
    if request.stop_type is not None:
        request = _capped(request, book, market, base, quote)
        return _place_pending(conn, live, seq, account, user_id, symbol, [request])[0]
    to_receive = None
    if request.side == "SELL" and request.quote_amount is not None:
        # A market sell of a total (Binance's quoteOrderQty) runs as one of the quantity
        # the book gives that total for now; the row keeps the total asked for.
        to_receive = request.quote_amount
        request = replace(request, quote_amount=None,
                          quantity=_quantity_to_sell(book, user_id, market, base, to_receive))
    held_asset, hold = _hold_needed(request, book, user_id, market, base, quote)
    if hold >= MAX_MINOR:  # a market buy's sweep of the whole book
        raise TradingError("The order is too large")
    if request.kind == "market" and request.quote_amount is None:
        # Sized by quantity, its total is only known from the book: estimated at the best
        # prices now (the whole sweep's cost for a buy, the best bid for a sell), it must meet
        # the minimum too, or market orders would trade dust.
        value = (hold if request.side == "BUY"
                 else (book.best_bid() or 0) * hold // 10**base.precision)
        if value:  # no bids at all: the engine expires it for lack of liquidity
            _refuse(filters_of(market, base, quote).total_problem(value), "NOTIONAL")

    # Checked before the engine moves, so a short trader does not cost a rebuilt book. The
    # hold itself is applied after matching, once every balance the order touches is locked.
    held = ledger.hold_movements(account, held_asset, hold)
    available = ledger.available(conn, account, held_asset)
    if available < hold:
        raise _insufficient(held_asset, hold, available, base, quote)

    moment = now()
    row = _order_row(symbol, user_id, request, held_asset, hold, "open", seq, moment)
    if to_receive is not None:
        row["quote_amount"] = to_receive
    order_id = _NEW_ORDER.scalar(conn, row)
    live.touched = True
    side = Side(request.side)
    with metrics.MATCHING.labels(symbol).time():
        if request.kind == "limit":
            result = book.submit_limit(order_id, user_id, side, request.price, request.quantity,
                                       TimeInForce(request.tif), request.post_only,
                                       STP(request.stp))
        else:
            result = book.submit_market(order_id, user_id, side, request.quantity,
                                        request.quote_amount, STP(request.stp))
    if result.status is Status.REJECTED:
        # The engine consumed the order id, which the rollback frees for reuse (SQLite): so
        # the book is dropped with the transaction. `_validate` and the post-only check
        # above refuse what a trader can cause, so this is rare.
        rejected = next(e for e in result.events if isinstance(e, Rejected))
        raise TradingError(rejected.message)

    # What this order still holds when its own run ends (the rest of the command may trade
    # it further as a maker: stop orders its trades set off).
    spent = result.quote if side is Side.BUY else result.filled
    still_held = 0
    if result.resting:
        still_held = (result.remaining * request.price // 10**base.precision  # type: ignore[operator]
                      if side is Side.BUY else result.remaining)
    release = hold - spent - still_held
    if release < 0:
        raise RuntimeError(f"order {order_id} spent more than it held ({spent} > {hold})")
    movements: list[ledger.Movement] = []
    if release:
        movements += ledger.release_movements(account, held_asset, release)
    # Its own expiry (a resting order can only be expired later, as a maker).
    own_expiry = next((e for e in result.events
                       if isinstance(e, Expired) and e.order_id == order_id), None
                      ) if result.status is Status.EXPIRED else None
    done = {"filled_quantity": result.filled, "filled_quote": result.quote,
            "fee_total": result.fee, "remaining": result.remaining if result.resting else 0,
            "held_amount": still_held, "status": _STATUS[result.status], "updated_at": moment,
            "book_seq": seq + 1,
            "expire_reason": own_expiry.reason if own_expiry is not None else None}
    _TAKER_DONE.execute(conn, {"t_id": order_id, **{_TAKER_DONE_PARAMS[k]: v
                                                    for k, v in done.items()}})
    fills: list[Fill] = []
    affected = _record_command(conn, live, symbol, seq, result.events,
                               {user_id: account}, own_expiry, moment, movements,
                               (order_id, fills))
    # The hold, every fill's settlement and the releases: one ledger transaction per command.
    ledger.lock_balances(conn, [(m.account_id, m.asset) for m in held + movements])
    journal = ledger.Journal(conn, "order", ref_type="order", ref_id=order_id)
    try:
        journal.apply(held)
    except InsufficientFunds:  # spent meanwhile, on another market
        raise _insufficient(held_asset, hold, ledger.available(conn, account, held_asset),
                            base, quote) from None
    if movements:
        journal.apply(movements)
    journal.close()
    _bump(conn, live, symbol, seq, last_price=book.last_price if result.filled else None)
    trades = sum(1 for e in result.events if isinstance(e, Trade) and e.taker_order_id == order_id)
    triggered = tuple(e.order_id for e in result.events if isinstance(e, Triggered))
    # The orders it set off may have traded with it, or expired it, after its own run.
    row = (_ORDER_ROW.typed_first(conn, {"id": order_id})._asdict() if triggered
           else row | done | {"id": order_id})
    return PlacedOrder(order_id, _STATUS[result.status], result.filled, result.quote,
                       result.fee, result.remaining, trades, frozenset(affected),
                       own_expiry.reason if own_expiry is not None else "", triggered,
                       tuple(fills), row)


def _check_open_and_valid(request: OrderRequest, market: MarketInfo, base: AssetInfo,
                          quote: AssetInfo) -> None:
    if not market.is_active:
        raise TradingError(f"{market.symbol} is halted: new orders are not accepted",
                           "MARKET_CLOSED")
    _validate(request, market, base, quote)


def _check_against_book(request: OrderRequest, book: OrderBook, market: MarketInfo,
                        base: AssetInfo, quote: AssetInfo) -> None:
    """A conditional order must not trigger at once; a post-only one must not take."""
    if request.stop_type is not None:
        _check_conditional(request, book, market, base, quote)
    elif request.post_only and _would_take(book, request.side, request.price):  # type: ignore[arg-type]
        raise TradingError("Post-only order would trade immediately", "WOULD_TAKE")


def _check_list_client_id(conn: Connection, user_id: int, list_client_id: str | None) -> None:
    if list_client_id is not None and conn.scalar(select(_orders.c.id).where(
            _orders.c.user_id == user_id, _orders.c.list_client_order_id == list_client_id,
            _orders.c.status.in_(LIVE_STATUSES)).limit(1)):
        raise TradingError("You already have an open order list with this client id",
                           "DUPLICATE_ORDER")


def _check_client_id(conn: Connection, user_id: int, symbol: str,
                     request: OrderRequest) -> None:
    if request.client_order_id is not None and _CLIENT_ID_OPEN.scalar(conn, {
            "symbol": symbol, "user_id": user_id, "client_id": request.client_order_id}):
        raise TradingError("You already have an open order with this client order id",
                           "DUPLICATE_ORDER")


def _capped(request: OrderRequest, book: OrderBook, market: MarketInfo, base: AssetInfo,
            quote: AssetInfo) -> OrderRequest:
    """A stop-market buy by quantity with its spend cap (what it holds) as the engine's
    `quote_amount`; any other conditional order as it is."""
    try:
        cap = conditional.spend_cap(request, filters_of(market, base, quote), book.last_price)
    except conditional.ConditionalProblem as problem:
        raise TradingError(str(problem), problem.reason) from None
    return request if cap is None else replace(request, quote_amount=cap)


def _check_conditional(request: OrderRequest, book: OrderBook, market: MarketInfo,
                       base: AssetInfo, quote: AssetInfo) -> None:
    try:
        conditional.check(request, filters_of(market, base, quote), book.last_price)
    except conditional.ConditionalProblem as problem:
        raise TradingError(str(problem), problem.reason) from None


# The columns a new order leaves empty (its row as placed is complete without reading it).
_UNSET = dict.fromkeys(("trail_extreme", "order_list_id", "list_client_order_id",
                        "triggered_at", "expire_reason"))


def _order_row(symbol: str, user_id: int, request: OrderRequest, held_asset: str, hold: int,
               status: str, seq: int, moment) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """A new order's row: what `_NEW_ORDER` inserts, and every other column (empty)."""
    return _UNSET | {
        "symbol": symbol, "user_id": user_id, "side": request.side, "kind": request.kind,
        "tif": request.tif, "post_only": request.post_only, "price": request.price,
        "quantity": request.quantity, "quote_amount": request.quote_amount, "remaining": 0,
        "filled_quantity": 0, "filled_quote": 0, "fee_total": 0, "held_asset": held_asset,
        "held_amount": hold, "status": status, "book_seq": seq + 1,
        "client_order_id": request.client_order_id, "created_at": moment,
        "updated_at": moment, "stop_type": request.stop_type,
        "stop_price": request.stop_price, "trailing_delta": request.trailing_delta,
    }


def _pending_hold(request: OrderRequest, base: AssetInfo, quote: AssetInfo) -> tuple[str, int]:
    """What a conditional order holds from its acceptance: its limit's hold; a stop-market
    sell its quantity; a stop-market buy its budget (by quantity: its spend cap, `_capped`)."""
    if request.side == "SELL":
        return base.code, request.quantity or 0
    if request.kind == "limit":
        return quote.code, request.price * request.quantity // 10**base.precision  # type: ignore[operator]
    return quote.code, request.quote_amount or 0


def _place_pending(conn: Connection, live: _LiveBook, seq: int, account: int, user_id: int,
                   symbol: str, requests: list[OrderRequest],
                   holds: list[int] | None = None,
                   list_client_id: str | None = None) -> list[PlacedOrder]:
    """Accept orders that wait: conditional ones (pending) and limit makers (resting), all
    of one trader, holding their funds now; two of them are an OCO list (`list_client_id`:
    its own client id). `holds`: what each holds, if not its own need (an OCO's legs share
    one hold)."""
    book = live.book
    base, quote = live.base, live.quote
    assert book is not None and base is not None and quote is not None
    needs = [_pending_hold(r, base, quote) for r in requests]
    amounts = holds if holds is not None else [amount for _, amount in needs]
    asset = needs[0][0]
    total = sum(amounts)
    if total >= MAX_MINOR:
        raise TradingError("The order is too large")
    available = ledger.available(conn, account, asset)
    if available < total:
        raise _insufficient(asset, total, available, base, quote)
    moment = now()
    ids, rows = [], []
    for request, amount in zip(requests, amounts, strict=True):
        status = PENDING if request.stop_type is not None else "open"
        rows.append(_order_row(symbol, user_id, request, asset, amount, status, seq, moment))
        ids.append(_NEW_ORDER.scalar(conn, rows[-1]))
        rows[-1]["id"] = ids[-1]
    if len(ids) == 2:
        conn.execute(update(_orders).where(_orders.c.id.in_(ids)).values(
            order_list_id=ids[0], list_client_order_id=list_client_id))
        for row in rows:
            row["order_list_id"], row["list_client_order_id"] = ids[0], list_client_id
    live.touched = True
    placed = []
    for order_id, request, row in zip(ids, requests, rows, strict=True):
        side = Side(request.side)
        if request.stop_type is None:  # an OCO's limit maker
            result = book.submit_limit(order_id, user_id, side, request.price,
                                       request.quantity, TimeInForce.GTC, True)
        else:
            result = book.submit_conditional(PendingOrder(
                order_id, user_id, side, conditional.is_above(request.stop_type, request.side),
                request.stop_price, request.trailing_delta,
                request.price if request.kind == "limit" else None, request.quantity,
                request.quote_amount, TimeInForce(request.tif)))
        if result.status is Status.REJECTED:  # checked above; the book is dropped with it
            rejected = next(e for e in result.events if isinstance(e, Rejected))
            raise TradingError(rejected.message)
        if result.status is Status.NEW:
            conn.execute(update(_orders).where(_orders.c.id == order_id)
                         .values(remaining=result.remaining))
            row["remaining"] = result.remaining
        pending = book.get_pending(order_id)
        if pending is not None and pending.extreme is not None:  # trailing from the last price
            conn.execute(update(_orders).where(_orders.c.id == order_id)
                         .values(trail_extreme=pending.extreme))
            row["trail_extreme"] = pending.extreme
        placed.append(PlacedOrder(order_id, _STATUS[result.status], 0, 0, 0,
                                  result.remaining, 0, frozenset({user_id}), row=row))
    if len(ids) == 2:
        book.link(*ids)
    held = ledger.hold_movements(account, asset, total) if total else []
    if held:
        ledger.lock_balances(conn, [(m.account_id, m.asset) for m in held])
        journal = ledger.Journal(conn, "order", ref_type="order", ref_id=ids[0])
        try:
            journal.apply(held)
        except InsufficientFunds:  # spent meanwhile, on another market
            raise _insufficient(asset, total, ledger.available(conn, account, asset), base,
                                quote) from None
        journal.close()
    _bump(conn, live, symbol, seq)
    return placed


def place_oco(user_id: int, symbol: str, request: OcoRequest) -> PlacedList:
    """Place an OCO list: both legs wait (a limit maker rests, a conditional leg is pending);
    when one triggers or trades, even partly, the other is cancelled in the same transaction.
    The legs share one hold: a SELL's quantity, a BUY's larger limit total."""

    def work(conn: Connection, live: _LiveBook, seq: int) -> PlacedList:
        account = _check_trader(conn, user_id)
        book = _book(conn, live, symbol, seq)
        market, base, quote = live.market, live.base, live.quote
        assert market is not None and base is not None and quote is not None
        if not market.is_active:
            raise TradingError(f"{symbol} is halted: new orders are not accepted",
                               "MARKET_CLOSED")
        legs = [replace(leg, side=request.side, quantity=request.quantity)
                for leg in (request.above, request.below)]
        for leg in legs:
            _validate(leg, market, base, quote)
            _check_client_id(conn, user_id, symbol, leg)
            if leg.stop_type is not None:
                _check_conditional(leg, book, market, base, quote)
            elif not leg.post_only:
                raise TradingError("An OCO's limit leg must be a limit maker", "OCO_TYPES")
            elif _would_take(book, leg.side, leg.price):  # type: ignore[arg-type]
                raise TradingError("Order would immediately match and take.", "WOULD_TAKE")
        _check_list_client_id(conn, user_id, request.list_client_order_id)
        try:
            conditional.check_oco(request.side, legs[0], legs[1], book.last_price)
        except conditional.ConditionalProblem as problem:
            raise TradingError(str(problem), problem.reason) from None
        legs = [_capped(leg, book, market, base, quote) for leg in legs]
        # One hold for the list, carried by the leg that can trade as a maker (it needs all of
        # its own); a triggered leg takes over its partner's share before it runs.
        needs = [_pending_hold(leg, base, quote)[1] for leg in legs]
        carrier = 1 if legs[1].stop_type is None else 0
        holds = [0, 0]
        holds[carrier] = needs[carrier]
        holds[1 - carrier] = max(needs) - needs[carrier]
        above, below = _place_pending(conn, live, seq, account, user_id, symbol, legs, holds,
                                      request.list_client_order_id)
        return PlacedList(above.order_id, above, below)

    return _run_on_market(symbol, work)


def _insufficient(asset: str, needed: int, available: int, base: AssetInfo,
                  quote: AssetInfo) -> TradingError:
    info = base if asset == base.code else quote
    return TradingError(f"Insufficient {asset}: the order needs {info.format(needed)}, "
                        f"you have {info.format(available)} available", "INSUFFICIENT_BALANCE")


_NEW_ORDER = insert_row(_orders, [
    "symbol", "user_id", "side", "kind", "tif", "post_only", "price", "quantity", "quote_amount",
    "remaining", "filled_quantity", "filled_quote", "fee_total", "held_asset", "held_amount",
    "status", "book_seq", "client_order_id", "created_at", "updated_at", "stop_type",
    "stop_price", "trailing_delta"], returning="id")
_CLIENT_ID_OPEN = Prepared(select(_orders.c.id).where(
    _orders.c.user_id == bindparam("user_id"), _orders.c.symbol == bindparam("symbol"),
    _orders.c.client_order_id == bindparam("client_id"),
    # Spelt out: a prepared statement cannot expand an IN list.
    or_(*(_orders.c.status == literal_column(f"'{status}'") for status in LIVE_STATUSES)))
    .limit(1))
_ORDER_ROW = Prepared(select(_orders).where(_orders.c.id == bindparam("id")))
# The taker's own row after its run: each column set from the parameter `t_<column>`.
_TAKER_DONE_PARAMS = {column: f"t_{column}" for column in (
    "filled_quantity", "filled_quote", "fee_total", "remaining", "held_amount", "status",
    "updated_at", "book_seq", "expire_reason")}
_TAKER_DONE = Prepared(update(_orders).where(_orders.c.id == bindparam("t_id")).values(
    {column: bindparam(name) for column, name in _TAKER_DONE_PARAMS.items()}))
_RUN_DONE = Prepared(update(_orders).where(_orders.c.id == bindparam("r_id")).values(
    filled_quantity=bindparam("r_filled"), filled_quote=bindparam("r_quote"),
    fee_total=bindparam("r_fee"), remaining=bindparam("r_remaining"),
    held_amount=bindparam("r_held"), status=bindparam("r_status"), updated_at=bindparam("r_at"),
    triggered_at=bindparam("r_at"), expire_reason=bindparam("r_reason"),
    book_seq=bindparam("r_book_seq"),
))
_TRAIL = Prepared(update(_orders).where(_orders.c.id == bindparam("x_id"),
                                        _orders.c.status == literal_column(f"'{PENDING}'"))
                  .values(trail_extreme=bindparam("x_extreme"), book_seq=bindparam("x_seq")))
_NEW_TRADE = insert_row(_trades, [
    "symbol", "maker_order_id", "taker_order_id", "maker_user_id", "taker_user_id",
    "taker_side", "price", "quantity", "notional", "maker_fee", "taker_fee", "created_at"],
    returning="id")
_MAKER_FILL = Prepared(
    update(_orders)
    .where(_orders.c.id == bindparam("m_id"))
    .values(
        filled_quantity=_orders.c.filled_quantity + bindparam("m_qty"),
        filled_quote=_orders.c.filled_quote + bindparam("m_quote"),
        fee_total=_orders.c.fee_total + bindparam("m_fee"),
        remaining=bindparam("m_remaining"),
        held_amount=_orders.c.held_amount - bindparam("m_spent"),
        status=bindparam("m_status"),
        updated_at=bindparam("m_at"),
        book_seq=bindparam("m_book_seq"),
    )
)


def _record_command(conn: Connection, live: _LiveBook, symbol: str, seq: int,  # type: ignore[no-untyped-def]
                    events: list, accounts: dict[int, int], own_expiry: Expired | None,
                    moment, movements: list[ledger.Movement],
                    taker: tuple[int, list[Fill]] | None = None) -> set[int]:
    """Write what a command did beyond its own order's row (already written): OCO legs it
    ended, the conditional orders it set off and their runs, every fill, makers' expiries,
    trailing state. Adds the ledger movements to `movements` and, for `taker` (an order id
    and a list), that order's own fills to the list; returns the users affected.

    Row writes go in this order because the later ones are relative to the earlier: an
    ended OCO leg's hold moves to its partner first; a triggered order's row is set as its
    own run left it; then maker fills (a triggered limit that rested can be a maker later in
    the cascade) subtract from what is held; what ends last releases what is still held."""
    market, base = live.market, live.base
    assert market is not None and base is not None
    book_seq = seq + 1
    trades: list[Trade] = []
    runs: list[Triggered] = []
    ended_legs: list[int] = []
    trails: dict[int, int] = {}
    maker_expired: dict[int, str] = {}  # order id -> why (the engine's reason)
    for event in events:
        kind = type(event)
        if kind is Trade:
            trades.append(event)
        elif kind is Triggered:
            runs.append(event)
        elif kind is Cancelled:
            ended_legs.append(event.order_id)
        elif kind is Trailing:
            trails[event.order_id] = event.extreme
        elif kind is Expired and event is not own_expiry:
            maker_expired[event.order_id] = event.reason
    affected: set[int] = set()
    survivors = _end_oco_legs(conn, ended_legs, moment, book_seq, affected)
    if runs:
        movements += _record_runs(conn, runs, 10**base.precision, accounts, moment, book_seq,
                                  affected)
    if trades:
        affected |= _settle(conn, trades, market, 10**base.precision, accounts, moment,
                            book_seq, movements, survivors, taker)
        record_trades(conn, symbol, trades, moment)
    for hold in _holds_of(conn, list(maker_expired)):
        if hold.amount:
            movements += ledger.release_movements(hold.account, hold.asset, hold.amount)
        _close_row(conn, hold.order_id, "expired", moment, book_seq,
                   reason=maker_expired[hold.order_id])
        affected.add(hold.owner)
    done = {run.order_id for run in runs} | set(ended_legs)
    moved = [{"x_id": order_id, "x_extreme": extreme, "x_seq": book_seq}
             for order_id, extreme in trails.items() if order_id not in done]
    if moved:
        _TRAIL.executemany(conn, moved)
    return affected | set(accounts)


def _end_oco_legs(conn: Connection, order_ids: list[int], moment, book_seq: int,  # type: ignore[no-untyped-def]
                  affected: set[int]) -> list[int]:
    """Cancel OCO legs whose partner traded or triggered: the hold they carried (an OCO holds
    once for both legs) moves to the partner, which releases what it does not need. Returns
    the partners."""
    if not order_ids:
        return []
    rows = conn.execute(select(_orders.c.id, _orders.c.user_id, _orders.c.order_list_id,
                               _orders.c.held_amount).where(_orders.c.id.in_(order_ids))).all()
    survivors = []
    for order_id, owner, list_id, held in rows:
        partner = conn.scalar(select(_orders.c.id).where(
            _orders.c.order_list_id == list_id, _orders.c.id != order_id))
        conn.execute(update(_orders).where(_orders.c.id == partner)
                     .values(held_amount=_orders.c.held_amount + held))
        _close_row(conn, order_id, "cancelled", moment, book_seq, reason="OCO")
        survivors.append(partner)
        affected.add(owner)
    return survivors


def _record_runs(conn: Connection, runs: list[Triggered], scale: int,  # type: ignore[no-untyped-def]
                 accounts: dict[int, int], moment, book_seq: int,
                 affected: set[int]) -> list[ledger.Movement]:
    """Each triggered order's row as its run left it, releasing what the run did not spend
    and does not keep resting."""
    rows = {r.id: r for r in conn.execute(
        select(_orders.c.id, _orders.c.user_id, _orders.c.side, _orders.c.price,
               _orders.c.held_asset, _orders.c.held_amount)
        .where(_orders.c.id.in_([run.order_id for run in runs])))}
    movements: list[ledger.Movement] = []
    updates = []
    for run in runs:
        row = rows[run.order_id]
        account = accounts.get(row.user_id)
        if account is None:
            account = accounts[row.user_id] = ledger.account_for_user(conn, row.user_id)
        buys = row.side == "BUY"
        spent = run.quote if buys else run.filled
        still_held = 0
        if run.resting:
            still_held = run.remaining * row.price // scale if buys else run.remaining
        release = row.held_amount - spent - still_held
        if release < 0:
            raise RuntimeError(f"triggered order {run.order_id} spent more than it held")
        if release:
            movements += ledger.release_movements(account, row.held_asset, release)
        updates.append({
            "r_id": run.order_id, "r_filled": run.filled, "r_quote": run.quote,
            "r_fee": run.fee, "r_remaining": run.remaining if run.resting else 0,
            "r_held": still_held, "r_status": _STATUS[run.status], "r_at": moment,
            "r_reason": run.reason or None, "r_book_seq": book_seq,
        })
        affected.add(row.user_id)
    _RUN_DONE.executemany(conn, updates)
    return movements


def _settle(conn: Connection, trades: list[Trade], market: MarketInfo, scale: int,  # type: ignore[no-untyped-def]
            accounts: dict[int, int], moment, book_seq: int,
            movements: list[ledger.Movement], survivors: list[int],
            taker: tuple[int, list[Fill]] | None) -> set[int]:
    """Add the base and quote movements of every fill (fees to the fee account) to
    `movements`; write the trades and update the makers. `accounts`: ledger accounts by
    user, extended as needed; `book_seq`: the market's seq after this command; `survivors`:
    OCO legs that took over their partner's hold; `taker`: see `_record_command`."""
    makers: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = []
    bids = set()
    for t in trades:
        for owner in (t.maker_owner, t.taker_owner):
            if owner not in accounts:
                accounts[owner] = ledger.account_for_user(conn, owner)
        maker_account, taker_account = accounts[t.maker_owner], accounts[t.taker_owner]
        taker_buys = t.taker_side is Side.BUY
        buyer, seller = ((taker_account, maker_account) if taker_buys
                         else (maker_account, taker_account))
        buyer_fee, seller_fee = ((t.taker_fee, t.maker_fee) if taker_buys
                                 else (t.maker_fee, t.taker_fee))
        movements += ledger.settle_movements(conn, seller, buyer, market.base, t.quantity,
                                             buyer_fee)
        movements += ledger.settle_movements(conn, buyer, seller, market.quote, t.notional,
                                             seller_fee)
        maker = makers[t.maker_order_id]
        maker["qty"] += t.quantity
        maker["quote"] += t.notional
        maker["fee"] += t.maker_fee
        maker["spent"] += t.quantity if taker_buys else t.notional  # maker sold base / paid quote
        maker["remaining"] = t.maker_remaining
        if not taker_buys:
            bids.add(t.maker_order_id)
        rows.append({
            "symbol": market.symbol, "maker_order_id": t.maker_order_id,
            "taker_order_id": t.taker_order_id, "maker_user_id": t.maker_owner,
            "taker_user_id": t.taker_owner, "taker_side": t.taker_side.value, "price": t.price,
            "quantity": t.quantity, "notional": t.notional, "maker_fee": t.maker_fee,
            "taker_fee": t.taker_fee, "created_at": moment,
        })
    # One insert per trade, for its id (an executemany returns none); a command rarely
    # makes more than a few.
    for t, row in zip(trades, rows, strict=True):
        trade_id = _NEW_TRADE.scalar(conn, row)
        if taker is not None and t.taker_order_id == taker[0]:
            taker[1].append(Fill(trade_id, t.price, t.quantity, t.taker_fee))
    _MAKER_FILL.executemany(conn, [
        {"m_id": order_id, "m_qty": m["qty"], "m_quote": m["quote"], "m_fee": m["fee"],
         "m_remaining": m["remaining"], "m_spent": m["spent"],
         "m_status": "partially_filled" if m["remaining"] else "filled", "m_at": moment,
         "m_book_seq": book_seq}
        for order_id, m in makers.items()
    ])
    # A filled bid may keep change (below); an OCO leg that took over its partner's hold
    # keeps only what it still needs.
    check = [order_id for order_id, m in makers.items()
             if (order_id in bids and not m["remaining"]) or order_id in survivors]
    if check:
        movements += _release_surplus(conn, check, accounts, scale)
    return {t.maker_owner for t in trades} | {t.taker_owner for t in trades}


_SURPLUS = Prepared(select(_orders.c.user_id, _orders.c.side, _orders.c.price,
                           _orders.c.remaining, _orders.c.held_asset, _orders.c.held_amount)
                    .where(_orders.c.id == bindparam("s_id"), _orders.c.held_amount > 0))
_KEEP_HOLD = Prepared(update(_orders).where(_orders.c.id == bindparam("k_id"))
                      .values(held_amount=bindparam("k_held")))


def _release_surplus(conn: Connection, order_ids: list[int], accounts: dict[int, int],
                     scale: int) -> list[ledger.Movement]:
    """Release what makers hold beyond what they still reserve. A bid whose price is off the
    tick x lot grid (the rules changed while it rested) pays each fill's quote rounded down,
    so once filled it can keep a few units of its hold; an OCO leg holds its partner's share
    too. On the grid a plain order's fills are exact and nothing is left. (One prepared
    statement per maker: a taker selling into bids runs this on every order.)"""
    movements: list[ledger.Movement] = []
    for order_id in order_ids:
        row = _SURPLUS.first(conn, {"s_id": order_id})
        if row is None:
            continue
        owner, side, price, remaining, asset, held = row
        need = remaining * price // scale if side == "BUY" else remaining
        if held > need:
            movements += ledger.release_movements(accounts[owner], asset, held - need)
            _KEEP_HOLD.execute(conn, {"k_id": order_id, "k_held": need}).close()
    return movements


@dataclass(frozen=True, slots=True)
class _Hold:
    """What a live order still holds, and whose."""

    order_id: int
    owner: int
    account: int
    asset: str
    amount: int


def _holds_of(conn: Connection, order_ids: list[int]) -> list[_Hold]:
    if not order_ids:
        return []
    rows = conn.execute(select(_orders.c.id, _orders.c.user_id, _orders.c.held_asset,
                               _orders.c.held_amount)
                        .where(_orders.c.id.in_(order_ids)).order_by(_orders.c.id))
    by_id = {r.id: _Hold(r.id, r.user_id, ledger.account_for_user(conn, r.user_id),
                         r.held_asset, r.held_amount) for r in rows}
    return [by_id[order_id] for order_id in order_ids]


def _close_row(conn: Connection, order_id: int, status: str, moment, book_seq: int,  # type: ignore[no-untyped-def]
               reason: str | None = None) -> None:
    """An order leaves the book or its triggers; its hold is released (or moved) apart."""
    values = {"status": status, "remaining": 0, "held_amount": 0, "updated_at": moment,
              "book_seq": book_seq}
    if reason is not None:
        values["expire_reason"] = reason
    conn.execute(update(_orders).where(_orders.c.id == order_id).values(**values))


def _close_order(conn: Connection, hold: _Hold, status: str, moment, book_seq: int) -> int:  # type: ignore[no-untyped-def]
    """A live order is cancelled: release what it still holds. Returns its owner."""
    if hold.amount:
        ledger.release(conn, hold.account, hold.asset, hold.amount, ref_type="order",
                       ref_id=hold.order_id)
    _close_row(conn, hold.order_id, status, moment, book_seq)
    return hold.owner


# --- cancelling -----------------------------------------------------------------------------


def cancel_order(user_id: int, order_id: int, *,
                 only_if: frozenset[str] | None = None) -> None:
    """Cancel one of the user's live orders (an OCO leg cancels its list). Another user's
    order is "not found". `only_if`: the statuses it may be cancelled in (checked in the
    cancel's transaction), or it is refused with reason CANCEL_RESTRICTED."""
    if not 0 < order_id < MAX_MINOR:
        raise TradingError("Order not found", "UNKNOWN_ORDER")
    with db.read() as conn:
        symbol = conn.scalar(select(_orders.c.symbol).where(
            _orders.c.id == order_id, _orders.c.user_id == user_id))
    if symbol is None:
        raise TradingError("Order not found", "UNKNOWN_ORDER")

    def work(conn: Connection, live: _LiveBook, seq: int) -> None:
        status, list_id = conn.execute(select(_orders.c.status, _orders.c.order_list_id)
                                       .where(_orders.c.id == order_id)).one()
        if status not in LIVE_STATUSES:
            raise TradingError(f"The order is already {status}", "UNKNOWN_ORDER")
        if only_if is not None and status not in only_if:
            raise TradingError(f"The order is {status}", "CANCEL_RESTRICTED")
        ids = [order_id]
        if list_id is not None:
            ids = list(conn.scalars(select(_orders.c.id).where(
                _orders.c.order_list_id == list_id, _orders.c.status.in_(LIVE_STATUSES))
                .order_by(_orders.c.id)))
        _cancel_in_book(conn, live, seq, symbol, ids)

    _run_on_market(symbol, work)


def cancel_order_list(user_id: int, symbol: str, order_list_id: int) -> list[int]:
    """Cancel the live legs of one of the user's OCO lists; returns their ids."""

    def work(conn: Connection, live: _LiveBook, seq: int) -> list[int]:
        ids = list(conn.scalars(select(_orders.c.id).where(
            _orders.c.order_list_id == order_list_id, _orders.c.user_id == user_id,
            _orders.c.symbol == symbol, _orders.c.status.in_(LIVE_STATUSES))
            .order_by(_orders.c.id)))
        if not ids:
            raise TradingError("Order list not found", "UNKNOWN_ORDER")
        _cancel_in_book(conn, live, seq, symbol, ids)
        return ids

    return _run_on_market(symbol, work)


def _cancel_in_book(conn: Connection, live: _LiveBook, seq: int, symbol: str,
                    order_ids: list[int]) -> None:
    book = _book(conn, live, symbol, seq)
    holds = _holds_of(conn, order_ids)
    ledger.lock_balances(conn, [(h.account, h.asset) for h in holds if h.amount])
    live.touched = True
    moment = now()
    for hold in holds:
        outcome = book.cancel(hold.order_id)
        if isinstance(outcome, Rejected):
            raise RuntimeError(f"order {hold.order_id} is live in the database but not in "
                               "the book")
        _close_order(conn, hold, "cancelled", moment, seq + 1)
    _bump(conn, live, symbol, seq)


def cancel_all(user_id: int | None, symbol: str | None = None) -> int:
    """Cancel every live order (resting or pending) of a user (or, with `user_id=None`, of
    everyone: an admin action) in one market or everywhere. Returns how many were cancelled."""
    with db.read() as conn:
        query = select(_orders.c.symbol).where(_orders.c.status.in_(LIVE_STATUSES)).distinct()
        if user_id is not None:
            query = query.where(_orders.c.user_id == user_id)
        if symbol is not None:
            query = query.where(_orders.c.symbol == symbol)
        symbols = sorted(conn.scalars(query))
    total = 0
    for market_symbol in symbols:
        def work(conn: Connection, live: _LiveBook, seq: int, s: str = market_symbol) -> int:
            query = select(_orders.c.id).where(
                _orders.c.symbol == s, _orders.c.status.in_(LIVE_STATUSES)
            ).order_by(_orders.c.id)
            if user_id is not None:
                query = query.where(_orders.c.user_id == user_id)
            ids = list(conn.scalars(query))
            if ids:
                _cancel_in_book(conn, live, seq, s, ids)
            return len(ids)

        total += _run_on_market(market_symbol, work)
    return total


# --- market administration ------------------------------------------------------------------


def set_market_status(symbol: str, status: str) -> None:
    """Halt or resume a market. Halted markets refuse new orders but allow cancels."""
    if status not in ("active", "halted"):
        raise TradingError("Status must be active or halted")
    def work(conn: Connection, live: _LiveBook, seq: int) -> None:
        conn.execute(update(Market.__table__).where(Market.__table__.c.symbol == symbol)
                     .values(status=status))
        live.book = None  # reload the market with its new status
        _bump(conn, live, symbol, seq, rules=True)

    _run_on_market(symbol, work)


def update_market_rules(symbol: str, *, tick_size: int, lot_size: int, min_notional: int,
                        maker_fee_bps: int, taker_fee_bps: int) -> None:
    """Edit a market's filters and fees; resting orders keep their prices and quantities."""
    for fee in (maker_fee_bps, taker_fee_bps):
        if not 0 <= fee <= 1000:
            raise TradingError("Fees must be between 0 and 1000 basis points")
    if min_notional < 0:
        raise TradingError("Minimum order total cannot be negative")

    def work(conn: Connection, live: _LiveBook, seq: int) -> None:
        market = get_market(conn, symbol)
        try:
            check_market_filters(tick_size, lot_size, assets(conn)[market.base].precision)  # type: ignore[union-attr]
        except MarketConfigError as exc:
            raise TradingError(str(exc)) from None
        conn.execute(update(Market.__table__).where(Market.__table__.c.symbol == symbol).values(
            tick_size=tick_size, lot_size=lot_size, min_notional=min_notional,
            maker_fee_bps=maker_fee_bps, taker_fee_bps=taker_fee_bps))
        live.book = None  # new rules: rebuild with them
        _bump(conn, live, symbol, seq, rules=True)

    _run_on_market(symbol, work)


def _current_book(symbol: str, read):  # type: ignore[no-untyped-def]
    """`read(book)` on the process's book of the market, brought up to date first."""
    live = _live(symbol)
    with live.lock:
        try:
            with db.read() as conn:
                seq = conn.scalar(select(_sequences.c.seq).where(_sequences.c.symbol == symbol))
                if seq is None:
                    raise UnknownMarket(symbol)
                return read(_book(conn, live, symbol, seq))
        except UnknownMarket:
            _forget(symbol, live)
            raise


def check_order(symbol: str, request: OrderRequest, *, against_book: bool = True) -> None:
    """What `place_order` refuses before it looks at balances, checked against the current
    book without placing anything (Binance's order/test): the market open, its filters, and
    (`against_book`) a post-only order that would take, a conditional one that would trigger
    at once. Raises `TradingError` as `place_order` would."""
    live = _live(symbol)

    def check(book: OrderBook) -> None:
        market, base, quote = live.market, live.base, live.quote
        assert market is not None and base is not None and quote is not None
        _check_open_and_valid(request, market, base, quote)
        if against_book:
            _check_against_book(request, book, market, base, quote)

    _current_book(symbol, check)


def depth(symbol: str, levels: int = 20) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Aggregated (price, quantity) levels, best first, from the current book."""
    return _current_book(symbol, lambda book: book.depth(levels))


def depth_snapshot(symbol: str, levels: int) -> tuple[int, list[tuple[int, int]],
                                                     list[tuple[int, int]]]:
    """(the market's seq, bids, asks) read together: the seq is Binance's `lastUpdateId`, and
    the diff stream's update ids count from it."""
    live = _live(symbol)
    return _current_book(symbol, lambda book: (live.seq, *book.depth(levels)))


def load_books() -> int:
    """Rebuild every market's book from its open orders (a process's start); returns how
    many resting orders were loaded."""
    with db.read() as conn:
        symbols = list(conn.scalars(select(_sequences.c.symbol)))
    return sum(_current_book(symbol, len) for symbol in symbols)


def trigger_snapshot(symbol: str):  # type: ignore[no-untyped-def]
    """The market's pending orders, OCO pairs and last price (see
    `OrderBook.trigger_snapshot`): what a rebuild from the database must reproduce."""
    return _current_book(symbol, lambda book: book.trigger_snapshot())


def pending_count(symbol: str) -> int:
    return _current_book(symbol, lambda book: book.pending_count())


def book_snapshot(symbol: str):  # type: ignore[no-untyped-def]
    """Every resting order in queue order (see `OrderBook.snapshot`): what a rebuild from the
    database must reproduce exactly."""
    return _current_book(symbol, lambda book: book.snapshot())
