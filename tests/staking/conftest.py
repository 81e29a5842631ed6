"""Helpers for the staking, promo, KYC and support tests: users, admins, funds, the books."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bitchange import db, ledger
from bitchange.accounts.users import create_user
from bitchange.clock import freeze

USDT = 10**6
BTC = 10**8
PASSWORD = "correct horse battery"


def make_user(email: str, funds: dict[str, int] | None = None, *, admin: bool = False,
              verified: bool = True) -> int:
    with db.write() as conn:
        user_id = create_user(conn, email, PASSWORD, is_admin=admin, verified=verified)
        for asset, amount in (funds or {}).items():
            ledger.credit_deposit(conn, ledger.account_for_user(conn, user_id), asset, amount)
    return user_id


def earn_fees(asset: str, amount: int) -> None:
    """Put `amount` of `asset` into the exchange's fee account the way trading does: a trader
    deposits, the funds are held, and a settlement sends them to the fee account as a fee (the
    only source the promotions and rewards accounts may be funded from)."""
    payer = make_user(f"fee-payer-{uuid.uuid4().hex[:8]}@example.com", {asset: amount})
    with db.write() as conn:
        account = ledger.account_for_user(conn, payer)
        ledger.hold(conn, account, asset, amount, ref_type="test")
        ledger.settle(conn, account, account, asset, amount, fee=amount, ref_type="test")


def available(user_id: int, asset: str) -> int:
    with db.read() as conn:
        return ledger.balances_of(conn, ledger.account_for_user(conn, user_id)).get(
            asset, (0, 0))[0]


def system_balance(code: str, asset: str) -> int:
    with db.read() as conn:
        return ledger.balances_of(conn, ledger.system_account(conn, code)).get(
            asset, (0, 0))[0]


def assert_books() -> None:
    from bitchange.promos.service import check_books as promo_books
    from bitchange.staking.service import check_books as staking_books

    with db.read() as conn:
        report = ledger.reconcile(conn)
        assert report.ok, report.summary()
        assert staking_books(conn) == []
        assert promo_books(conn) == []


class Clock:
    """A controllable clock for `bitchange.clock.now`."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, *args: int) -> None:
        self.moment = datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def clock() -> Iterator[Clock]:
    c = Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    with freeze(c):
        yield c


@pytest.fixture
def books(database) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Every test using it ends with reconcile() and the staking/promo books checked."""
    yield
    assert_books()


@pytest.fixture
def admin(database) -> int:  # type: ignore[no-untyped-def]
    return make_user("admin@example.com", admin=True)
