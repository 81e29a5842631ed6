"""Snapshots taken while other processes trade, on SQLite and on PostgreSQL: each one's totals,
and every user's share, equal the ledger as of the snapshot's transaction id."""

from __future__ import annotations

import multiprocessing
import os
import random

from sqlalchemy import func, select

from bitchange import db, ledger
from bitchange.config import reload_settings
from bitchange.db.models import LedgerTransaction
from bitchange.proof import snapshot as proof
from bitchange.trading import service as trading
from bitchange.trading.service import OrderRequest, TradingError
from tests.proof.conftest import BTC, USDT, fund, owed_from_ledger, recompute
from tests.trading.test_concurrency import shared_database  # noqa: F401 - the fixture

PROCESSES = 2
OPERATIONS = 150


def _trade(database_url: str, user_ids: list[int], seed: int, under_way) -> int:
    """A child process: transfers between users and limit orders that cross. After its first
    operation it waits at `under_way` with the others and the parent, so that the parent's
    first snapshot falls inside the trading and not before it."""
    os.environ["DATABASE_URL"] = database_url
    reload_settings()
    db.dispose()
    rng = random.Random(seed)
    done = 0
    for step in range(OPERATIONS):
        if step == 1:
            under_way.wait()
        payer, payee = rng.sample(user_ids, 2)
        try:
            if rng.random() < 0.5:
                with db.write() as conn:
                    ledger.transfer(conn, ledger.account_for_user(conn, payer),
                                    ledger.account_for_user(conn, payee), "USDT",
                                    rng.randint(1, 100) * USDT)
            else:
                trading.place_order(payer, "BTC-USDT", OrderRequest(
                    side=rng.choice(["BUY", "SELL"]), kind="limit",
                    price=rng.randint(59_990, 60_010) * USDT, quantity=BTC // 1000))
            done += 1
        except (ledger.InsufficientFunds, TradingError):
            pass
    return done


def test_snapshots_taken_during_trading_equal_the_ledger_at_their_id(shared_database) -> None:  # noqa: F811
    users = [fund(f"t{i}@example.com", {"BTC": 10 * BTC, "USDT": 1_000_000 * USDT})
             for i in range(4)]
    db.dispose()  # no pooled connections cross into the children
    context = multiprocessing.get_context("spawn")
    taken = []
    with context.Manager() as manager, context.Pool(PROCESSES) as pool:
        under_way = manager.Barrier(PROCESSES + 1)
        running = pool.starmap_async(_trade, [(shared_database, users, s, under_way)
                                              for s in range(PROCESSES)])
        under_way.wait()
        while not running.ready():
            taken.append(proof.take_snapshot())
        assert sum(running.get()) > 0
    taken.append(proof.take_snapshot())  # after the last commit: it must see all of them
    with db.read() as conn:
        last_committed = conn.scalar(select(func.max(LedgerTransaction.__table__.c.id)))
    ids = [t.ledger_transaction_id for t in taken]
    assert ids[-1] == last_committed, "a snapshot missed a committed ledger transaction"
    assert len(set(ids)) > 1, "the ledger did not move between snapshots"
    with db.read() as conn:
        for snap in taken:
            journal = owed_from_ledger(conn, snap.ledger_transaction_id)
            root, sums, per_user = recompute(conn, snap.snapshot_id)
            assert root == snap.root
            info = proof.get_snapshot(conn, snap.snapshot_id)
            assert info is not None
            codes = info.codes
            expected = [sum(m.get(c, 0) for m in journal.values()) for c in codes]
            assert sums == expected == [snap.totals[c] for c in codes]
            assert {u: {c: v for c, v in zip(codes, vec, strict=True) if v}
                    for u, vec in per_user.items()} == journal
