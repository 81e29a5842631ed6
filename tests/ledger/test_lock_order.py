"""On PostgreSQL a balance's first credit, made by two transactions at once, does not collide
on the balance's primary key: the second waits for the first and then adds to its row."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from bitchange import db, ledger
from bitchange.accounts.users import create_user
from tests.ledger.conftest import balances
from tests.postgres import postgres_database

ETH = 10**8


@pytest.fixture
def pg(monkeypatch):  # type: ignore[no-untyped-def]
    with postgres_database(monkeypatch) as url:
        yield url


def _account(email: str) -> int:
    with db.write() as conn:
        return ledger.account_for_user(conn, create_user(conn, email, "correct horse battery"))


def _someone_waits_for_a_lock() -> bool:
    with db.read() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'")))


def test_two_first_credits_of_one_balance_at_once(pg):
    carol, dave = _account("carol@example.com"), _account("dave@example.com")
    with db.write() as conn:
        ledger.credit_deposit(conn, dave, "ETH", ETH)
    outcomes: list[str] = []

    def transfer_to_carol() -> None:
        try:
            with db.write() as conn:
                ledger.transfer(conn, dave, carol, "ETH", ETH // 4)
            outcomes.append("transferred")
        except Exception as exc:  # any failure is the finding
            outcomes.append(repr(exc))

    second = threading.Thread(target=transfer_to_carol)
    with db.write() as first:
        ledger.credit_deposit(first, carol, "ETH", ETH)  # creates carol's ETH row, uncommitted
        second.start()
        deadline = time.monotonic() + 30
        while not _someone_waits_for_a_lock():  # the transfer reached carol's new row
            assert time.monotonic() < deadline, "the transfer never waited for the deposit"
    second.join()

    assert outcomes == ["transferred"]
    assert balances(carol) == {"ETH": (ETH + ETH // 4, 0)}
    assert balances(dave) == {"ETH": (ETH - ETH // 4, 0)}
    with db.read() as conn:
        assert ledger.reconcile(conn).ok
