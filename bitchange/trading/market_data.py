"""Read models for traders: trade tape, 24h ticker, candles, a user's orders and trades."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, func, or_, select

from bitchange.clock import now
from bitchange.trading.candles import INTERVALS
from bitchange.trading.tables import Candle, Order, Trade

_trades = Trade.__table__
_candles = Candle.__table__
_orders = Order.__table__


@dataclass(frozen=True)
class Ticker:
    symbol: str
    last: int | None
    open: int | None  # first price of the 24h window
    high: int | None
    low: int | None
    volume: int  # base minor units over 24h
    quote_volume: int

    @property
    def change_bps(self) -> int | None:
        """24h change in basis points, truncated toward zero."""
        if self.last is None or not self.open:
            return None
        return int((self.last - self.open) * 10_000 / self.open)


def recent_trades(conn: Connection, symbol: str, limit: int = 40) -> list:  # type: ignore[type-arg]
    return list(conn.execute(
        select(_trades.c.id, _trades.c.price, _trades.c.quantity, _trades.c.taker_side,
               _trades.c.created_at)
        .where(_trades.c.symbol == symbol).order_by(_trades.c.id.desc()).limit(limit)
    ))


def ticker(conn: Connection, symbol: str) -> Ticker:
    last = conn.scalar(select(_trades.c.price).where(_trades.c.symbol == symbol)
                       .order_by(_trades.c.id.desc()).limit(1))
    since = int((now() - timedelta(hours=24)).timestamp())
    window = (_candles.c.symbol == symbol, _candles.c.interval == "1m",
              _candles.c.open_time > since - INTERVALS["1m"])
    agg = conn.execute(select(func.max(_candles.c.high), func.min(_candles.c.low),
                              func.coalesce(func.sum(_candles.c.volume), 0),
                              func.coalesce(func.sum(_candles.c.quote_volume), 0))
                       .where(*window)).one()
    first_open = conn.scalar(select(_candles.c.open).where(*window)
                             .order_by(_candles.c.open_time).limit(1))
    return Ticker(symbol, last, first_open, agg[0], agg[1], int(agg[2]), int(agg[3]))


def candles(conn: Connection, symbol: str, interval: str, limit: int = 300) -> list:  # type: ignore[type-arg]
    if interval not in INTERVALS:
        raise ValueError(f"Unknown interval {interval}")
    rows = conn.execute(
        select(_candles.c.open_time, _candles.c.open, _candles.c.high, _candles.c.low,
               _candles.c.close, _candles.c.volume)
        .where(_candles.c.symbol == symbol, _candles.c.interval == interval)
        .order_by(_candles.c.open_time.desc()).limit(limit)
    )
    return list(reversed(list(rows)))


def orders_of(conn: Connection, user_id: int, symbol: str | None = None, *, open_only: bool,
              limit: int = 50) -> list:  # type: ignore[type-arg]
    query = select(_orders).where(_orders.c.user_id == user_id)
    if symbol:
        query = query.where(_orders.c.symbol == symbol)
    statuses = ("pending", "open", "partially_filled")  # live: pending, or in the book
    query = query.where(_orders.c.status.in_(statuses) if open_only
                        else _orders.c.status.not_in(statuses))
    return list(conn.execute(query.order_by(_orders.c.id.desc()).limit(limit)))


def trades_of(conn: Connection, user_id: int, symbol: str | None = None,
              limit: int = 50) -> list:  # type: ignore[type-arg]
    query = select(_trades).where(or_(_trades.c.maker_user_id == user_id,
                                      _trades.c.taker_user_id == user_id))
    if symbol:
        query = query.where(_trades.c.symbol == symbol)
    return list(conn.execute(query.order_by(_trades.c.id.desc()).limit(limit)))
