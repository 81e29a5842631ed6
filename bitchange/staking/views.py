"""What the staking screen shows, as small JSON-ready rows, and how staking terms read on every
screen. No Reflex here; the user's view is built for the one user it belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange.clock import now, when
from bitchange.ledger import user_balances
from bitchange.staking import service as staking
from bitchange.trading.markets import assets

Row = dict[str, str]


def apr_text(apr_bps: int) -> str:
    return f"{apr_bps / 100:.2f} %"


def lock_text(lock_days: int) -> str:
    return "Flexible" if lock_days == 0 else f"{lock_days} days"


@dataclass(frozen=True)
class StakingView:
    products: list[Row]  # the open products, with what the user has available to stake
    positions: list[Row]  # the user's positions, active first


def staking_view(conn: Connection, user_id: int) -> StakingView:
    moment = now()
    precisions = assets(conn)
    money = user_balances(conn, user_id)

    def fmt(amount: int, asset: str) -> str:
        return precisions[asset].format(amount)

    products = [{
        "id": str(p.id), "name": p.name, "asset": p.asset, "apr": apr_text(p.apr_bps),
        "lock": lock_text(p.lock_days), "min": fmt(p.min_amount, p.asset),
        "max": fmt(p.max_per_user, p.asset),
        "left": fmt(p.capacity - p.staked_total, p.asset),
        "available": fmt(money.get(p.asset, (0, 0))[0], p.asset),
        "rewards": "Rewards paused: the reward pool is being refilled"
        if p.rewards_status == "no_funds" else ""}
        for p in staking.list_products(conn, only_active=True)]
    positions = [{
        "id": str(v.id), "product": v.product_name, "asset": v.asset,
        "amount": fmt(v.amount, v.asset), "apr": apr_text(v.apr_bps),
        "started": when(v.started_at),
        "unlocks": "Flexible" if v.unlocks_at is None else when(v.unlocks_at),
        "reward": fmt(v.rewards_paid, v.asset), "status": v.status,
        "redeemable": "yes" if v.redeemable(moment) else "",
        "rewards_note": "paused (pool empty)" if v.status == "active"
        and v.rewards_status == "no_funds" else ""}
        for v in staking.positions_of(conn, user_id)]
    return StakingView(products, positions)
