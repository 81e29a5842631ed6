"""A proof-of-liabilities snapshot of many accounts: time and peak memory, against a plain sum
of the same balance rows (the baseline), in the same run.

    .venv/bin/python benchmarks/proof_bench.py                      # 100,000 accounts x 3 assets
    .venv/bin/python benchmarks/proof_bench.py --accounts 2000      # smoke
    .venv/bin/python benchmarks/proof_bench.py --database-url postgresql://postgres@127.0.0.1:5432/x

The database gets `--accounts` users, each with a balance of every asset (BTC, ETH, USDT)
credited by one deposit transaction (so `reconcile()` passes), written with plain bulk inserts.
Then, timed: the baseline (one read of the same balance rows, summed per asset), and
`take_snapshot()` with its phases (the consistent read with `reconcile()`, building the tree,
storing the leaves). Peak memory: the process's peak RSS (getrusage) and, in a second snapshot
run under tracemalloc, the peak of Python allocations during the snapshot. Figures only.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text

from bitchange import db, ledger
from bitchange.clock import now
from bitchange.config import reload_settings
from bitchange.db.models import Balance, LedgerAccount, LedgerEntry, LedgerTransaction, User
from bitchange.proof import snapshot as proof
from bitchange.setup import prepare_database

ASSETS = ("BTC", "ETH", "USDT")
CHUNK = 10_000


def _seed(accounts: int) -> None:
    users, ledger_accounts = User.__table__, LedgerAccount.__table__
    balances, transactions = Balance.__table__, LedgerTransaction.__table__
    entries = LedgerEntry.__table__
    moment = now()
    with db.write() as conn:
        external = ledger.system_account(conn, ledger.EXTERNAL)
        first_user = (conn.scalar(text("SELECT COALESCE(MAX(id), 0) FROM users")) or 0) + 1
        first_account = (conn.scalar(text("SELECT COALESCE(MAX(id), 0) FROM ledger_accounts"))
                         or 0) + 1
        first_tx = (conn.scalar(text("SELECT COALESCE(MAX(id), 0) FROM ledger_transactions"))
                    or 0) + 1
        totals: dict[str, int] = defaultdict(int)
        for start in range(0, accounts, CHUNK):
            batch = range(start, min(start + CHUNK, accounts))
            conn.execute(insert(users), [{
                "id": first_user + i, "email": f"bench{i}@example.com", "password_hash": "x",
                "is_admin": False, "created_at": moment} for i in batch])
            conn.execute(insert(ledger_accounts), [{
                "id": first_account + i, "user_id": first_user + i, "allow_negative": False}
                for i in batch])
            conn.execute(insert(transactions), [{
                "id": first_tx + i, "kind": "deposit", "ref_type": "bench", "ref_id": str(i),
                "memo": "", "created_at": moment} for i in batch])
            rows, lines = [], []
            for i in batch:
                for n, asset in enumerate(ASSETS):
                    amount = (i * 7919 + n * 104_729) % 10**9 + 4  # locked part >= 1
                    totals[asset] += amount
                    rows.append({"account_id": first_account + i, "asset": asset,
                                 "available": amount - amount // 4, "locked": amount // 4,
                                 "allow_negative": False})
                    lines += [
                        {"transaction_id": first_tx + i, "account_id": first_account + i,
                         "asset": asset, "bucket": "available", "amount": amount - amount // 4},
                        {"transaction_id": first_tx + i, "account_id": first_account + i,
                         "asset": asset, "bucket": "locked", "amount": amount // 4},
                        {"transaction_id": first_tx + i, "account_id": external,
                         "asset": asset, "bucket": "available", "amount": -amount},
                    ]
            conn.execute(insert(balances), rows)
            conn.execute(insert(entries), lines)
        for asset, total in totals.items():
            conn.execute(insert(balances).values(account_id=external, asset=asset,
                                                 available=-total, locked=0,
                                                 allow_negative=True))


class Clock:
    """Wall and CPU (process) time of a stretch: on a shared machine the CPU time is the
    figure the load of other processes does not inflate (SQLite runs in this process)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def _baseline() -> tuple[tuple[float, float], dict[str, int]]:
    """One read of the users' balance rows, summed per asset: the least a snapshot must do."""
    b, a = Balance.__table__, LedgerAccount.__table__
    clock = Clock()
    totals: dict[str, int] = defaultdict(int)
    with db.read() as conn:
        for _, asset, amount in conn.execute(
                select(a.c.user_id, b.c.asset, b.c.available + b.c.locked)
                .join(a, a.c.id == b.c.account_id).where(a.c.user_id.is_not(None))):
            totals[asset] += amount
    return clock.stop(), dict(totals)


PHASES = {"reconcile": proof.ledger, "read_ledger": proof, "place": proof,
          "build_blocks": proof.tree}


def _phased_snapshot() -> tuple[dict[str, tuple[float, float]], proof.Taken]:
    """take_snapshot() with its phases timed: the calls it makes, wrapped for the run."""
    phases: dict[str, tuple[float, float]] = {}
    originals = {name: getattr(module, name) for name, module in PHASES.items()}

    def timed(name: str):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            clock = Clock()
            try:
                return originals[name](*args, **kwargs)
            finally:
                phases[name] = clock.stop()
        return wrapper

    for name, module in PHASES.items():
        setattr(module, name, timed(name))
    try:
        clock = Clock()
        taken = proof.take_snapshot(trigger="bench")
        phases["total"] = clock.stop()
    finally:
        for name, module in PHASES.items():
            setattr(module, name, originals[name])
    read = phases["read_ledger"]
    phases["read_ledger"] = (read[0] - phases["reconcile"][0], read[1] - phases["reconcile"][1])
    phases["store"] = tuple(phases["total"][i] - sum(  # type: ignore[assignment]
        phases[k][i] for k in ("reconcile", "read_ledger", "place", "build_blocks"))
        for i in (0, 1))
    return phases, taken


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-tracemalloc", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATA_DIR"] = tmp
        os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        reload_settings()
        db.dispose()
        prepare_database()
        started = time.perf_counter()
        _seed(args.accounts)
        seeded = time.perf_counter() - started
        rss_before = _rss_mib()
        load_before = f"{os.getloadavg()[0]:.1f}"
        baseline, sums = _baseline()
        phases, taken = _phased_snapshot()
        assert taken.totals == {a: sums[a] for a in ASSETS}, "totals differ from the ledger"
        rss_after = _rss_mib()
        traced = None
        if not args.no_tracemalloc:
            tracemalloc.start()
            proof.take_snapshot(trigger="bench")
            traced = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        engine = db.get_engine().dialect.name
        db.dispose()

    cpu = platform.processor() or platform.machine()
    print(f"proof_bench: {args.accounts:,} accounts x {len(ASSETS)} assets on {engine}, "
          f"CPython {platform.python_version()}, {os.cpu_count()} CPUs ({cpu})")
    print(f"  seeding (not timed below): {seeded:.1f} s")
    print(f"  tree: {taken.leaf_count:,} leaves ({taken.users:,} accounts split over 2-3 each)")
    print(f"  load average before and after: {load_before} / {os.getloadavg()[0]:.1f}")
    print(f"  {'':44} {'wall':>8} {'CPU':>8}")
    print(f"  baseline: the balance rows read, summed       {baseline[0]:7.2f}s "
          f"{baseline[1]:7.2f}s")
    print(f"  snapshot, total                               {phases['total'][0]:7.2f}s "
          f"{phases['total'][1]:7.2f}s  = {phases['total'][1] / baseline[1]:.1f}x the baseline "
          "(CPU)")
    for name in ("reconcile", "read_ledger", "place", "build_blocks", "store"):
        wall, cpu = phases[name]
        print(f"    {name:42} {wall:7.2f}s {cpu:7.2f}s")
    without = phases["total"][1] - phases["reconcile"][1]
    print(f"  snapshot without reconcile() (CPU)            {without:7.2f}s  = "
          f"{without / baseline[1]:.1f}x the baseline")
    print(f"  peak RSS: {rss_after:.0f} MiB (before the snapshot: {rss_before:.0f} MiB)")
    if traced is not None:
        print(f"  peak Python allocations during a snapshot (tracemalloc): {traced:.0f} MiB")
    print(f"  targets: under 30 s -> {'met' if phases['total'][0] < 30 else 'NOT met'} (wall), "
          f"{'met' if phases['total'][1] < 30 else 'NOT met'} (CPU); "
          f"under 1 GiB -> {'met' if rss_after < 1024 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
