"""What the promo code screen shows: the codes a user redeemed, and what a redemption added.
No Reflex here; built for the one user it belongs to."""

from __future__ import annotations

from sqlalchemy import Connection

from bitchange.clock import when
from bitchange.promos import service as promos
from bitchange.trading.markets import assets

Row = dict[str, str]
SHOWN = 50


def redemption_rows(conn: Connection, user_id: int) -> list[Row]:
    """The user's redemptions, newest first."""
    precisions = assets(conn)
    return [{"code": r.code, "time": when(r.created_at),
             "amount": precisions[r.asset].format(r.amount), "asset": r.asset}
            for r in promos.redemptions(conn, user_id=user_id, limit=SHOWN)]


def redeemed_notice(conn: Connection, result: promos.Redeemed) -> str:
    shown = assets(conn)[result.asset].format(result.amount)
    return f"Done: {shown} {result.asset} was added to your available balance."
