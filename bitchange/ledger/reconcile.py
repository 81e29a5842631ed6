"""Proof of conservation: the books balance, per asset, and every balance is explained by its
journal entries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from bitchange.db.models import Balance, LedgerEntry

_balances = Balance.__table__
_entries = LedgerEntry.__table__


@dataclass(frozen=True)
class Discrepancy:
    kind: str  # asset_not_conserved | balance_mismatch | unbalanced_transaction | negative_balance
    asset: str
    detail: str
    account_id: int | None = None
    expected: int | None = None
    actual: int | None = None


@dataclass
class ReconcileReport:
    totals: dict[str, int] = field(default_factory=dict)  # asset -> sum over all accounts
    discrepancies: list[Discrepancy] = field(default_factory=list)
    balances_checked: int = 0
    entries_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def summary(self) -> str:
        if self.ok:
            return (f"OK: {len(self.totals)} assets conserved, {self.balances_checked} balances "
                    f"match {self.entries_checked} journal entries")
        return "\n".join(f"FAIL {d.kind} [{d.asset}]: {d.detail}" for d in self.discrepancies)


def reconcile(conn: Connection) -> ReconcileReport:
    report = ReconcileReport()
    stored: dict[tuple[int, str], tuple[int, int, bool]] = {}
    totals: dict[str, int] = defaultdict(int)
    for account_id, asset, available, locked, allow_negative in conn.execute(
        select(_balances.c.account_id, _balances.c.asset, _balances.c.available,
               _balances.c.locked, _balances.c.allow_negative)
    ):
        stored[(account_id, asset)] = (available, locked, bool(allow_negative))
        totals[asset] += available + locked
        if not allow_negative and (available < 0 or locked < 0):
            report.discrepancies.append(Discrepancy(
                "negative_balance", asset, f"account {account_id} has available={available} "
                f"locked={locked}", account_id))
    report.balances_checked = len(stored)

    journal: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for account_id, asset, bucket, amount, count in conn.execute(
        select(_entries.c.account_id, _entries.c.asset, _entries.c.bucket,
               func.sum(_entries.c.amount), func.count())
        .group_by(_entries.c.account_id, _entries.c.asset, _entries.c.bucket)
    ):
        journal[(account_id, asset)][0 if bucket == "available" else 1] += int(amount)
        report.entries_checked += count

    for key in sorted(set(stored) | set(journal)):
        account_id, asset = key
        available, locked, _ = stored.get(key, (0, 0, False))
        j_available, j_locked = journal.get(key, (0, 0))
        for bucket, actual, expected in (("available", available, j_available),
                                         ("locked", locked, j_locked)):
            if actual != expected:
                report.discrepancies.append(Discrepancy(
                    "balance_mismatch", asset,
                    f"account {account_id} {bucket} is {actual} but its journal sums to "
                    f"{expected} (difference {actual - expected})",
                    account_id, expected, actual))

    for asset, total in sorted(totals.items()):
        report.totals[asset] = total
        if total != 0:
            report.discrepancies.append(Discrepancy(
                "asset_not_conserved", asset,
                f"all balances of {asset} sum to {total}, not 0", None, 0, total))

    for tx_id, asset, total in conn.execute(
        select(_entries.c.transaction_id, _entries.c.asset, func.sum(_entries.c.amount))
        .group_by(_entries.c.transaction_id, _entries.c.asset)
        .having(func.sum(_entries.c.amount) != 0)
    ):
        report.discrepancies.append(Discrepancy(
            "unbalanced_transaction", asset,
            f"ledger transaction {tx_id} entries sum to {total}", None, 0, int(total)))
    return report
