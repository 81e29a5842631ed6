"""What the admin dashboard shows about the books: the reconciliation and the net funds that
came in from the outside world per asset. No Reflex here, so it is testable without a
browser; backups and scheduled jobs are `ops.health.operations_view`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange.ledger import EXTERNAL, balances_of, reconcile, system_account
from bitchange.trading.markets import assets

Row = dict[str, str]


@dataclass(frozen=True)
class ReconcileView:
    ok: bool
    summary: str  # one line
    lines: list[str]  # each discrepancy (none when the books balance)
    totals: list[Row]  # asset, deposited: net deposits (deposits minus withdrawals)


def external_totals(conn: Connection) -> dict[str, int]:
    """Net funds that came in from the outside world, per asset (deposits minus withdrawals)."""
    return {asset: -(available + locked) for asset, (available, locked)
            in balances_of(conn, system_account(conn, EXTERNAL)).items()}


def reconcile_view(conn: Connection) -> ReconcileView:
    report = reconcile(conn)
    external = external_totals(conn)
    lines = report.summary().splitlines()
    return ReconcileView(
        report.ok,
        lines[0] if report.ok else f"{len(report.discrepancies)} discrepancies found",
        [] if report.ok else lines,
        [{"asset": code, "deposited": info.format(external.get(code, 0))}
         for code, info in assets(conn).items()])
