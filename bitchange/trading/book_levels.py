"""A market's book as price levels read from the database, labelled with the market's `seq`.

The `seq` of `market_sequences` moves with every change of the book (placement, fill, cancel,
rules), in the same transaction as the change, and every order row keeps the seq of its last
change (`book_seq`). So, read in one snapshot:
- `depth_snapshot` is the book at exactly `seq` (the REST `depth`'s `lastUpdateId`);
- `changed_levels(after, upto)` is every level touched by the changes `after+1 .. upto`, with
  its quantity at `upto` (0: gone). A level that changed and came back is listed too: a client
  whose snapshot lies between `after` and `upto` must still get it (Binance's diff events carry
  every level updated in `[U, u]`, not just the net difference).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, func, select, tuple_

from bitchange import db
from bitchange.trading.service import OPEN_STATUSES
from bitchange.trading.tables import MarketSequence, Order

_orders = Order.__table__
_sequences = MarketSequence.__table__

Levels = list[tuple[int, int]]  # (price, quantity) in minor units, best first


@contextmanager
def snapshot_read() -> Iterator[Connection]:
    """One consistent snapshot over several statements: SQLite's read transaction is one; on
    PostgreSQL a READ COMMITTED statement would see commits the previous one did not."""
    with db.get_engine().connect() as conn:
        if not db.is_sqlite():
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def seq_of(conn: Connection, symbol: str) -> int | None:
    return conn.scalar(select(_sequences.c.seq).where(_sequences.c.symbol == symbol))


def _open_levels(symbol: str, side: str):  # type: ignore[no-untyped-def]
    price = _orders.c.price
    return (select(price, func.sum(_orders.c.remaining))
            .where(_orders.c.symbol == symbol, _orders.c.side == side,
                   _orders.c.status.in_(OPEN_STATUSES), _orders.c.remaining > 0)
            .group_by(price)
            .order_by(price.desc() if side == "BUY" else price))


def depth_snapshot(conn: Connection, symbol: str, limit: int) -> tuple[int, Levels, Levels]:
    """(last update id, bids, asks): the top `limit` levels of each side at the market's
    current seq. Run it in `snapshot_read()` (or any transaction on SQLite) so the seq and the
    levels are of one moment. Raises LookupError for an unknown market."""
    seq = seq_of(conn, symbol)
    if seq is None:
        raise LookupError(symbol)
    bids = [(int(p), int(q)) for p, q in conn.execute(_open_levels(symbol, "BUY").limit(limit))]
    asks = [(int(p), int(q)) for p, q in conn.execute(_open_levels(symbol, "SELL").limit(limit))]
    return seq, bids, asks


def changed_levels(conn: Connection, symbol: str, after_seq: int,
                   upto_seq: int) -> tuple[Levels, Levels]:
    """(bids, asks) touched by the book changes `after_seq+1 .. upto_seq` (`upto_seq` is the
    seq read in this snapshot), each with its quantity now, 0 for a level that is gone."""
    touched = conn.execute(
        select(_orders.c.side, _orders.c.price).distinct()
        .where(_orders.c.symbol == symbol, _orders.c.book_seq > after_seq,
               _orders.c.book_seq <= upto_seq, _orders.c.price.is_not(None))).all()
    if not touched:
        return [], []
    keys = [(side, int(price)) for side, price in touched]
    now_open = dict.fromkeys(keys, 0)
    rows = conn.execute(
        select(_orders.c.side, _orders.c.price, func.sum(_orders.c.remaining))
        .where(_orders.c.symbol == symbol, _orders.c.status.in_(OPEN_STATUSES),
               tuple_(_orders.c.side, _orders.c.price).in_(keys))
        .group_by(_orders.c.side, _orders.c.price))
    for side, price, quantity in rows:
        now_open[(side, int(price))] = int(quantity)
    bids = sorted(((p, q) for (s, p), q in now_open.items() if s == "BUY"), reverse=True)
    asks = sorted((p, q) for (s, p), q in now_open.items() if s == "SELL")
    return bids, asks
