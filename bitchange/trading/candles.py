"""OHLCV candles, kept incrementally: each order's fills update one candle per interval."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, case

from bitchange.db.prepared import Prepared
from bitchange.engine import Side, Trade
from bitchange.trading.tables import Candle
from bitchange.trading.upsert import insert_for

_candles = Candle.__table__

INTERVALS: dict[str, int] = {
    "1m": 60, "5m": 300, "15m": 900, "1h": 3_600, "4h": 14_400, "1d": 86_400,
}


def bucket(moment: datetime, interval: str) -> int:
    seconds = INTERVALS[interval]
    stamp = int(moment.timestamp())
    return stamp - stamp % seconds


# What a candle adds up over its trades.
SUMMED = ("volume", "quote_volume", "trade_count", "taker_buy_volume", "taker_buy_quote_volume")
_upserts: dict[str, Prepared] = {}  # dialect name -> statement, built once


def _upsert(conn: Connection) -> Prepared:
    statement = _upserts.get(conn.dialect.name)
    if statement is None:
        statement = _upserts[conn.dialect.name] = Prepared(_build_upsert(conn))
    return statement


def _build_upsert(conn: Connection):  # type: ignore[no-untyped-def]
    statement = insert_for(conn, _candles).values(
        {name: bindparam(name) for name in ("symbol", "interval", "open_time", "open", "high",
                                            "low", "close", *SUMMED)})
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["symbol", "interval", "open_time"],
        set_={
            "high": case((excluded.high > _candles.c.high, excluded.high), else_=_candles.c.high),
            "low": case((excluded.low < _candles.c.low, excluded.low), else_=_candles.c.low),
            "close": excluded.close,
            **{name: _candles.c[name] + excluded[name] for name in SUMMED},
        },
    )
    return statement


def record_trades(conn: Connection, symbol: str, trades: Sequence[Trade],
                  moment: datetime) -> None:
    prices = [t.price for t in trades]
    bought = [t for t in trades if t.taker_side is Side.BUY]
    totals = {"volume": sum(t.quantity for t in trades),
              "quote_volume": sum(t.notional for t in trades), "trade_count": len(trades),
              "taker_buy_volume": sum(t.quantity for t in bought),
              "taker_buy_quote_volume": sum(t.notional for t in bought)}
    _upsert(conn).executemany(conn, [
        {"symbol": symbol, "interval": interval, "open_time": bucket(moment, interval),
         "open": prices[0], "high": max(prices), "low": min(prices), "close": prices[-1],
         **totals}
        for interval in INTERVALS
    ])
