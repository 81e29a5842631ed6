"""Values in USDT from the last trade price: BTC through BTC-USDT, ETH through ETH-USDT.

An asset with no trade yet has no price. Callers that enforce a limit treat an unpriced amount
as unknown and refuse (see `withdrawals`), never as zero.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from bitchange.trading.markets import assets
from bitchange.trading.tables import Trade
from bitchange.wallet.rules import USDT

_trades = Trade.__table__


def last_price(conn: Connection, asset: str) -> int | None:
    """USDT minor units per whole unit of `asset`, from its USDT market's last trade."""
    if asset == USDT:
        return 10**6
    return conn.scalar(select(_trades.c.price).where(_trades.c.symbol == f"{asset}-{USDT}")
                       .order_by(_trades.c.id.desc()).limit(1))


def value_usdt(conn: Connection, asset: str, amount: int, *,
               precision: int | None = None) -> int | None:
    """`amount` minor units of `asset` in USDT minor units, rounded up; None without a price."""
    price = last_price(conn, asset)
    if price is None:
        return None
    if precision is None:
        precision = assets(conn)[asset].precision
    scale = 10**precision
    return -(-amount * price // scale)
