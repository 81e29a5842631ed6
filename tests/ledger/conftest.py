from __future__ import annotations

import pytest

from bitchange import db, ledger
from bitchange.accounts.users import create_user


@pytest.fixture
def accounts(database: str) -> dict[str, int]:
    """Ledger accounts of two users and the system accounts."""
    with db.write() as conn:
        alice = create_user(conn, "alice@example.com", "correct horse battery")
        bob = create_user(conn, "bob@example.com", "correct horse battery")
        return {
            "alice": ledger.account_for_user(conn, alice),
            "bob": ledger.account_for_user(conn, bob),
            "external": ledger.system_account(conn, ledger.EXTERNAL),
            "fees": ledger.system_account(conn, ledger.FEES),
        }


def balances(account_id: int) -> dict[str, tuple[int, int]]:
    with db.read() as conn:
        return ledger.balances_of(conn, account_id)


def journal_size() -> tuple[int, int]:
    from sqlalchemy import func, select

    from bitchange.db.models import LedgerEntry, LedgerTransaction

    with db.read() as conn:
        return (conn.scalar(select(func.count()).select_from(LedgerTransaction.__table__)),
                conn.scalar(select(func.count()).select_from(LedgerEntry.__table__)))
