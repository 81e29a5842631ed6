"""candles keep their number of trades and the taker-buy volumes (Binance's kline fields)

Filled in from the trades already recorded, so every existing candle answers as a new one.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | tuple[str, ...] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("trade_count", "taker_buy_volume", "taker_buy_quote_volume")
# The intervals candles were kept in when this migration was written (bitchange.trading.candles).
_INTERVALS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3_600, "4h": 14_400, "1d": 86_400}

_trades = sa.table("trades", sa.column("id", sa.BigInteger()), sa.column("symbol", sa.String()),
                   sa.column("taker_side", sa.String()), sa.column("quantity", sa.BigInteger()),
                   sa.column("notional", sa.BigInteger()),
                   sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()))
_candles = sa.table("candles", sa.column("symbol", sa.String()), sa.column("interval", sa.String()),
                    sa.column("open_time", sa.BigInteger()),
                    *(sa.column(name, sa.BigInteger()) for name in _COLUMNS))


def _backfill() -> None:
    conn = op.get_bind()
    totals: dict[tuple[str, str, int], list[int]] = {}
    rows = conn.execute(sa.select(_trades.c.symbol, _trades.c.taker_side, _trades.c.quantity,
                                  _trades.c.notional, _trades.c.created_at)
                        .order_by(_trades.c.id))
    for symbol, taker_side, quantity, notional, created_at in rows:
        stamp = int(created_at.timestamp())
        bought = taker_side == "BUY"
        for interval, seconds in _INTERVALS.items():
            total = totals.setdefault((symbol, interval, stamp - stamp % seconds), [0, 0, 0])
            total[0] += 1
            total[1] += quantity if bought else 0
            total[2] += notional if bought else 0
    if not totals:
        return
    conn.execute(
        _candles.update()
        .where(_candles.c.symbol == sa.bindparam("k_symbol"),
               _candles.c.interval == sa.bindparam("k_interval"),
               _candles.c.open_time == sa.bindparam("k_open_time"))
        .values({name: sa.bindparam(f"v_{name}") for name in _COLUMNS}),
        [{"k_symbol": symbol, "k_interval": interval, "k_open_time": open_time,
          **{f"v_{name}": value for name, value in zip(_COLUMNS, total, strict=True)}}
         for (symbol, interval, open_time), total in totals.items()])


def upgrade() -> None:
    with op.batch_alter_table("candles", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=False,
                                          server_default="0"))
    with op.batch_alter_table("candles", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.alter_column(name, server_default=None)
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("candles", schema=None) as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
