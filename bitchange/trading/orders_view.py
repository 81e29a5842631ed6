"""The Orders page: one user's open orders in every market, their order history and their
trades, filtered by market, side, status and date, and the same rows as CSV. No Reflex here.

Every query is scoped to the user it is built for; cancelling goes through
`bitchange.trading.service.cancel_order`, which checks the owner again.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, and_, or_, select

from bitchange import db
from bitchange.money import to_decimal
from bitchange.trading import conditional
from bitchange.trading.markets import list_markets
from bitchange.trading.service import OPEN_STATUSES
from bitchange.trading.tables import Order, Trade
from bitchange.trading.views import MarketView, market_view, my_trade_rows, order_rows

ALL = "all"  # the filter value for "any market / side / status"
SIDES = ("BUY", "SELL")
# What the status filter offers, and the order statuses each one means.
STATUSES: dict[str, tuple[str, ...]] = {
    "open": OPEN_STATUSES, "filled": ("filled",), "cancelled": ("cancelled",),
    "expired": ("expired",),
}
SCREEN_ROWS = 100  # per list on the page; the CSV carries more
CSV_ROWS = 10_000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)  # what a date input sends

_orders = Order.__table__
_trades = Trade.__table__


class FilterError(ValueError):
    """A filter the page cannot apply; the message is shown and the lists stay as they were."""


@dataclass(frozen=True)
class OrderFilter:
    market: str = ""  # "" for every market
    side: str = ""  # "" | BUY | SELL (the user's side, also for trades)
    status: str = ""  # "" | a key of STATUSES; the history and its CSV only
    since: date | None = None
    until: date | None = None  # inclusive


def _date(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    if not _DATE.fullmatch(text):
        raise FilterError(f"{what} must be a date like 2026-01-31")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{what} is not a valid date") from None


def parse_filter(markets: list[str], market: str = ALL, side: str = ALL, status: str = ALL,
                 since: str = "", until: str = "") -> OrderFilter:
    """The filter for what the page sent; `FilterError` says what is wrong."""
    if market != ALL and market not in markets:
        raise FilterError("Unknown market")
    if side != ALL and side not in SIDES:
        raise FilterError("Choose buy, sell or both")
    if status != ALL and status not in STATUSES:
        raise FilterError("Unknown order status")
    start, end = _date(since, "The start date"), _date(until, "The end date")
    if start and end and start > end:
        raise FilterError("The start date is after the end date")
    return OrderFilter(market="" if market == ALL else market, side="" if side == ALL else side,
                       status="" if status == ALL else status, since=start, until=end)


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _when(column, f: OrderFilter) -> list:  # type: ignore[no-untyped-def, type-arg]
    """The date range as conditions on `column` (the end date counts whole)."""
    conditions = []
    if f.since:
        conditions.append(column >= _moment(f.since))
    if f.until:
        conditions.append(column < _moment(f.until + timedelta(days=1)))
    return conditions


def orders_of(conn: Connection, user_id: int, f: OrderFilter, *, open_only: bool,
              limit: int) -> list:  # type: ignore[type-arg]
    """The user's orders, newest first: the open ones, or all of them (by `f.status`)."""
    query = select(_orders).where(_orders.c.user_id == user_id, *_when(_orders.c.created_at, f))
    if f.market:
        query = query.where(_orders.c.symbol == f.market)
    if f.side:
        query = query.where(_orders.c.side == f.side)
    if open_only:
        query = query.where(_orders.c.status.in_(OPEN_STATUSES))
    elif f.status:
        query = query.where(_orders.c.status.in_(STATUSES[f.status]))
    return list(conn.execute(query.order_by(_orders.c.id.desc()).limit(limit)))


def trades_of(conn: Connection, user_id: int, f: OrderFilter, limit: int) -> list:  # type: ignore[type-arg]
    """The user's trades (as maker or taker), newest first; `f.side` is the user's side."""
    if f.side:
        other = "SELL" if f.side == "BUY" else "BUY"
        mine = or_(and_(_trades.c.taker_user_id == user_id, _trades.c.taker_side == f.side),
                   and_(_trades.c.maker_user_id == user_id, _trades.c.taker_side == other))
    else:
        mine = or_(_trades.c.taker_user_id == user_id, _trades.c.maker_user_id == user_id)
    query = select(_trades).where(mine, *_when(_trades.c.created_at, f))
    if f.market:
        query = query.where(_trades.c.symbol == f.market)
    return list(conn.execute(query.order_by(_trades.c.id.desc()).limit(limit)))


def _market_views(conn: Connection) -> dict[str, MarketView]:
    views = {m.symbol: market_view(conn, m.symbol) for m in list_markets(conn)}
    return {symbol: mv for symbol, mv in views.items() if mv is not None}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _with_market(rows: list, views: dict[str, MarketView], build) -> list[dict[str, str]]:  # type: ignore[no-untyped-def, type-arg]
    """Each row as the trading screen shows it, plus its market and full date."""
    out = []
    for row in rows:
        [shown] = build([row], views[row.symbol])
        out.append({**shown, "market": row.symbol, "time": _stamp(row.created_at)})
    return out


@dataclass(frozen=True)
class OrdersView:
    open_orders: list[dict[str, str]]
    history: list[dict[str, str]]
    trades: list[dict[str, str]]


def market_symbols() -> list[str]:
    with db.read() as conn:
        return [m.symbol for m in list_markets(conn)]


def orders_view(user_id: int, f: OrderFilter, limit: int = SCREEN_ROWS) -> OrdersView:
    with db.read() as conn:
        views = _market_views(conn)
        return OrdersView(
            open_orders=_with_market(orders_of(conn, user_id, f, open_only=True, limit=limit),
                                     views, order_rows),
            history=_with_market(orders_of(conn, user_id, f, open_only=False, limit=limit),
                                 views, order_rows),
            trades=_with_market(trades_of(conn, user_id, f, limit), views,
                                lambda rows, mv: my_trade_rows(rows, mv, user_id)),
        )


# --- CSV ------------------------------------------------------------------------------------


def _exact(minor: int | None, precision: int) -> str:
    """Every decimal of the asset, no separators: what a spreadsheet reads back exactly."""
    return "" if minor is None else f"{to_decimal(minor, precision):f}"


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


ORDER_COLUMNS = ["order_id", "time_utc", "market", "side", "type", "time_in_force", "price",
                 "amount", "order_total", "filled", "average_price", "fee", "fee_asset",
                 "status"]
TRADE_COLUMNS = ["trade_id", "time_utc", "market", "side", "role", "price", "amount", "total",
                 "fee", "fee_asset"]


def orders_csv(user_id: int, f: OrderFilter, limit: int = CSV_ROWS) -> str:
    """The user's orders (the history's filter, open ones included) as CSV."""
    with db.read() as conn:
        views = _market_views(conn)
        rows = orders_of(conn, user_id, f, open_only=False, limit=limit)
    lines = []
    for r in rows:
        mv = views[r.symbol]
        qp, bp = mv.quote_precision, mv.base_precision
        average = (r.filled_quote * mv.base_scale // r.filled_quantity
                   if r.filled_quantity else None)
        fee_asset = mv.base if r.side == "BUY" else mv.quote
        lines.append([str(r.id), _stamp(r.created_at), r.symbol, r.side, r.kind, r.tif,
                      _exact(r.price, qp), _exact(r.quantity, bp),
                      _exact(conditional.sized_by_total(r) or None, qp),
                      _exact(r.filled_quantity, bp), _exact(average, qp),
                      _exact(r.fee_total, bp if r.side == "BUY" else qp), fee_asset, r.status])
    return _csv(ORDER_COLUMNS, lines)


def trades_csv(user_id: int, f: OrderFilter, limit: int = CSV_ROWS) -> str:
    with db.read() as conn:
        views = _market_views(conn)
        rows = trades_of(conn, user_id, f, limit)
    lines = []
    for r in rows:
        mv = views[r.symbol]
        taker = r.taker_user_id == user_id
        side = r.taker_side if taker else ("SELL" if r.taker_side == "BUY" else "BUY")
        fee = r.taker_fee if taker else r.maker_fee
        fee_asset, fee_precision = ((mv.base, mv.base_precision) if side == "BUY"
                                    else (mv.quote, mv.quote_precision))
        lines.append([str(r.id), _stamp(r.created_at), r.symbol, side,
                      "taker" if taker else "maker", _exact(r.price, mv.quote_precision),
                      _exact(r.quantity, mv.base_precision),
                      _exact(r.notional, mv.quote_precision), _exact(fee, fee_precision),
                      fee_asset])
    return _csv(TRADE_COLUMNS, lines)
