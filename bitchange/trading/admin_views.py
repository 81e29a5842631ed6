"""The admin dashboard's markets card: each market's status, rules, open orders and pending
conditional orders."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from bitchange.money import format_step
from bitchange.trading.markets import assets, list_markets
from bitchange.trading.service import OPEN_STATUSES, PENDING
from bitchange.trading.tables import Order

_orders = Order.__table__


def market_rows(conn: Connection) -> list[dict[str, str]]:
    """Rules are shown plain (no thousands separators) so the edit form can send them back."""
    infos = assets(conn)
    open_counts = dict(conn.execute(
        select(_orders.c.symbol, func.count()).where(_orders.c.status.in_(OPEN_STATUSES))
        .group_by(_orders.c.symbol)).all())
    pending_counts = dict(conn.execute(
        select(_orders.c.symbol, func.count()).where(_orders.c.status == PENDING)
        .group_by(_orders.c.symbol)).all())
    return [{
        "symbol": m.symbol, "status": m.status,
        "tick": format_step(m.tick_size, infos[m.quote].precision),
        "lot": format_step(m.lot_size, infos[m.base].precision),
        "min_notional": infos[m.quote].format(m.min_notional).replace(",", ""),
        "maker": str(m.maker_fee_bps), "taker": str(m.taker_fee_bps),
        "open_orders": str(open_counts.get(m.symbol, 0)),
        "pending_orders": str(pending_counts.get(m.symbol, 0)),
        "base": m.base, "quote": m.quote,
    } for m in list_markets(conn)]
