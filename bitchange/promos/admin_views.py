"""What the admin promo screen shows: the codes, the redemptions of the selected one and the
promotions account, as rows of display strings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange.clock import when
from bitchange.promos import service as promos
from bitchange.trading.markets import assets

Row = dict[str, str]


@dataclass(frozen=True)
class PromosPage:
    asset_codes: list[str]
    codes: list[Row]
    redemptions: list[Row]  # of the selected code; none when no code is selected
    pool: list[Row]  # the promotions account, per asset


def promos_page(conn: Connection, selected_code: str) -> PromosPage:
    precisions = assets(conn)
    codes = promos.list_codes(conn)
    balance = promos.promotions_balance(conn)
    selected = next((c for c in codes if c.code == selected_code), None)
    rows = promos.redemptions(conn, code_id=selected.id) if selected else []

    def fmt(amount: int, asset: str) -> str:
        return precisions[asset].format(amount)

    def condition(c: promos.Code) -> str:
        if c.condition == "first_deposit_min":
            return f"first deposit ≥ {fmt(c.condition_amount, c.condition_asset)} " \
                   f"{c.condition_asset}"
        if c.condition == "kyc_level_min":
            return f"verification level ≥ {c.condition_amount}"
        return "—"

    return PromosPage(
        asset_codes=list(precisions),
        codes=[{"id": str(c.id), "code": c.code, "reward": f"{fmt(c.amount, c.asset)} "
                f"{c.asset}", "used": f"{c.redeemed_count} / {c.total_limit}",
                "per_user": str(c.per_user_limit),
                "window": f"{when(c.valid_from)} → {when(c.valid_until)}",
                "condition": condition(c), "active": "yes" if c.active else "no"}
               for c in codes],
        redemptions=[{"email": r.email, "time": when(r.created_at),
                      "amount": f"{fmt(r.amount, r.asset)} {r.asset}"} for r in rows],
        pool=[{"asset": a, "balance": fmt(balance.get(a, 0), a)} for a in precisions])
