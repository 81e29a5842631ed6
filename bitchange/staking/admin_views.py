"""What the admin staking screen shows: the products with their totals and the rewards
account, as rows of display strings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange.staking import service as staking
from bitchange.staking.views import apr_text, lock_text
from bitchange.trading.markets import assets

Row = dict[str, str]


@dataclass(frozen=True)
class StakingPage:
    asset_codes: list[str]
    products: list[Row]
    pool: list[Row]  # the rewards account, per asset


def staking_page(conn: Connection) -> StakingPage:
    precisions = assets(conn)
    rewards = staking.rewards_balance(conn)

    def fmt(amount: int, asset: str) -> str:
        return precisions[asset].format(amount)

    products = []
    for t in staking.product_totals(conn):
        p = t.product
        products.append({
            "id": str(p.id), "name": p.name, "asset": p.asset,
            "apr": apr_text(p.apr_bps), "lock": lock_text(p.lock_days),
            "limits": f"{fmt(p.min_amount, p.asset)} - {fmt(p.max_per_user, p.asset)}",
            "staked": fmt(p.staked_total, p.asset), "capacity": fmt(p.capacity, p.asset),
            "positions": str(t.positions), "paid": fmt(t.rewards_paid, p.asset),
            "status": p.status, "rewards": p.rewards_status})
    return StakingPage(list(precisions), products,
                       [{"asset": code, "balance": fmt(rewards.get(code, 0), code)}
                        for code in precisions])
