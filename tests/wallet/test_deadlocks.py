"""Opposite transfers at once on PostgreSQL, A->B while B->A: each locks both users' rows and
both balances, in one order, so none fails on a deadlock and the books balance. A transfer
PostgreSQL aborts anyway runs again, once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bitchange import clock, db, ledger
from bitchange.accounts import totp
from bitchange.wallet import transfers
from bitchange.wallet.tables import Transfer
from tests.postgres import abort_once_as_deadlock, inserts_tried, postgres_database
from tests.wallet.conftest import USDT, Person, make_person


@pytest.fixture
def pg(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BITCHANGE_ENV", "test")
    monkeypatch.setenv("KYC_TRANSFER_LIMITS_USDT", "0=100000000,1=100000000,2=100000000")
    with postgres_database(monkeypatch) as url:
        yield url


def _send_all(sender: Person, recipient: Person, codes: list[str], start: threading.Barrier,
              failures: list[str]) -> None:
    start.wait()
    for code in codes:  # one recovery code per transfer: no two may share a TOTP step
        try:
            transfers.send(sender.user_id, recipient.email, "USDT", USDT, "", code)
        except Exception as exc:  # every failure counts, whatever it is
            failures.append(f"{sender.email}: {exc!r}")


def _two_people() -> tuple[Person, Person]:
    # Two days ago, so the security lock after enabling 2FA is over now.
    past = clock.now() - timedelta(days=2)
    with clock.freeze(lambda: past):
        return (make_person("alice@example.com", funds={"USDT": 1_000 * USDT}),
                make_person("bob@example.com", funds={"USDT": 1_000 * USDT}))


def test_opposite_transfers_do_not_deadlock(pg):
    alice, bob = _two_people()
    with db.write() as conn:
        codes = {p.user_id: totp.new_recovery_codes(conn, p.user_id) for p in (alice, bob)}
    start, failures = threading.Barrier(2), []
    runs = [threading.Thread(target=_send_all, args=(
                sender, recipient, codes[sender.user_id], start, failures))
            for sender, recipient in ((alice, bob), (bob, alice))]
    for run in runs:
        run.start()
    for run in runs:
        run.join()

    assert failures == []
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(Transfer.__table__)) == 20
        report = ledger.reconcile(conn)
    assert report.ok, report.summary()
    assert alice.balance("USDT") == bob.balance("USDT") == (1_000 * USDT, 0)


def test_a_transfer_aborted_by_a_deadlock_runs_again_once(pg):
    alice, bob = _two_people()
    with db.write() as conn:
        code = totp.new_recovery_codes(conn, alice.user_id)[0]
    abort_once_as_deadlock("transfers")

    transfers.send(alice.user_id, bob.email, "USDT", 5 * USDT, "", code)

    assert inserts_tried() == 2
    # The aborted attempt's use of the recovery code was rolled back with it.
    assert alice.balance("USDT") == (995 * USDT, 0)
    assert bob.balance("USDT") == (1_005 * USDT, 0)
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(Transfer.__table__)) == 1
        assert totp.remaining_recovery_codes(conn, alice.user_id) == 9
        assert ledger.reconcile(conn).ok
