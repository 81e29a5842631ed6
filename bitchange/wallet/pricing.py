"""Values in USDT: BTC through BTC-USDT, ETH through ETH-USDT.

Two prices. `last_price` (the newest trade) is for display (the wallet overview). `limit_price`
is for every limit and threshold (withdrawal and transfer daily limits, the withdrawal four-eyes
threshold, the deposit second approval): see its comment.

An asset with no trade yet has no price. Callers that enforce a limit treat an unpriced amount
as unknown and refuse (see `withdrawals`), never as zero.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from bitchange.trading.market_data import ticker
from bitchange.trading.markets import assets
from bitchange.trading.tables import Order, Trade
from bitchange.wallet.rules import USDT

_trades = Trade.__table__
_orders = Order.__table__
_UNIT = 10**6  # 1 USDT in USDT minor units


def last_price(conn: Connection, asset: str) -> int | None:
    """USDT minor units per whole unit of `asset`, from its USDT market's last trade. For
    display only: one trade sets it, so limits use `limit_price`."""
    if asset == USDT:
        return _UNIT
    return conn.scalar(select(_trades.c.price).where(_trades.c.symbol == f"{asset}-{USDT}")
                       .order_by(_trades.c.id.desc()).limit(1))


def limit_price(conn: Connection, asset: str) -> int | None:
    """USDT minor units per whole unit of `asset` for limits and thresholds; None without a
    trade price (the caller refuses, never values at zero)."""
    if asset == USDT:
        return _UNIT
    symbol = f"{asset}-{USDT}"
    last = last_price(conn, asset)
    if last is None:
        return None
    # The highest of the last trade, the 24h high and the best open bid: one wash trade between
    # two accounts can set the last price, but cannot lower the 24h high or pull others' bids,
    # so it cannot make an amount look small enough to slip under a limit or a two-admin rule.
    high = ticker(conn, symbol).high
    best_bid = conn.scalar(select(func.max(_orders.c.price)).where(
        _orders.c.symbol == symbol, _orders.c.side == "BUY",
        _orders.c.status.in_(("open", "partially_filled")), _orders.c.remaining > 0))
    return max(p for p in (last, high, best_bid) if p is not None)


def _value(price: int | None, conn: Connection, asset: str, amount: int,
           precision: int | None) -> int | None:
    if price is None:
        return None
    if precision is None:
        precision = assets(conn)[asset].precision
    return -(-amount * price // 10**precision)


def value_usdt(conn: Connection, asset: str, amount: int, *,
               precision: int | None = None) -> int | None:
    """`amount` minor units of `asset` in USDT minor units at the last price, rounded up; None
    without a price. For display only; limits use `limit_value_usdt`."""
    return _value(last_price(conn, asset), conn, asset, amount, precision)


def limit_value_usdt(conn: Connection, asset: str, amount: int, *,
                     precision: int | None = None) -> int | None:
    """`amount` minor units of `asset` in USDT minor units at `limit_price`, rounded up; None
    without a price. What every limit and threshold compares against."""
    return _value(limit_price(conn, asset), conn, asset, amount, precision)
