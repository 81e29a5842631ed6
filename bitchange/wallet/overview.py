"""The wallet page's numbers for one user: per asset total, available, in orders, pending
withdrawal, and the estimated total in USDT from last prices."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange import ledger
from bitchange.trading.markets import assets
from bitchange.wallet import chains, withdrawals
from bitchange.wallet.pricing import value_usdt


@dataclass(frozen=True)
class AssetLine:
    asset: str
    name: str
    precision: int
    decimals: int
    available: int
    in_orders: int
    pending_withdrawal: int
    value_usdt: int | None  # None: no price yet
    transferable: bool  # deposits/withdrawals exist for it

    @property
    def total(self) -> int:
        return self.available + self.in_orders + self.pending_withdrawal


@dataclass(frozen=True)
class Overview:
    lines: list[AssetLine]
    total_usdt: int
    unpriced: list[str]


def overview(conn: Connection, user_id: int) -> Overview:
    balances = ledger.user_balances(conn, user_id)
    pending = withdrawals.pending_amounts(conn, user_id)
    lines, total, unpriced = [], 0, []
    for code, info in assets(conn).items():
        available, locked = balances.get(code, (0, 0))
        held = min(pending.get(code, 0), locked)
        amount = available + locked
        value = value_usdt(conn, code, amount, precision=info.precision) if amount else 0
        if value is None:
            unpriced.append(code)
        else:
            total += value
        lines.append(AssetLine(code, info.name, info.precision, info.display_decimals,
                               available, locked - held, held, value,
                               code in chains.SCHEMES))
    return Overview(lines, total, unpriced)
