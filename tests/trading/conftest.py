from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bitchange import db, ledger
from bitchange.accounts.users import create_user
from bitchange.trading import service
from bitchange.trading.tables import Order

BTC = 10**8  # minor units per BTC
USDT = 10**6


def price(usdt: str) -> int:
    """'65000.5' USDT per BTC -> quote minor units."""
    from decimal import Decimal

    return int(Decimal(usdt) * USDT)


def qty(btc: str) -> int:
    from decimal import Decimal

    return int(Decimal(btc) * BTC)


@dataclass
class Trader:
    user_id: int
    account: int

    def balance(self, asset: str) -> tuple[int, int]:
        with db.read() as conn:
            return ledger.balances_of(conn, self.account).get(asset, (0, 0))


def make_trader(email: str, funds: dict[str, int], *, verified: bool = True) -> Trader:
    with db.write() as conn:
        user_id = create_user(conn, email, "correct horse battery", verified=verified)
        account = ledger.account_for_user(conn, user_id)
        for asset, amount in funds.items():
            ledger.credit_deposit(conn, account, asset, amount)
    return Trader(user_id, account)


@pytest.fixture
def market(database):
    service.forget_books()
    yield "BTC-USDT"
    service.forget_books()


@pytest.fixture
def alice(market) -> Trader:
    return make_trader("alice@example.com", {"BTC": 10 * BTC, "USDT": 1_000_000 * USDT})


@pytest.fixture
def bob(market) -> Trader:
    return make_trader("bob@example.com", {"BTC": 10 * BTC, "USDT": 1_000_000 * USDT})


def assert_books_sound() -> None:
    """Conservation holds and every locked unit is explained by an open order's hold."""
    orders = Order.__table__
    with db.read() as conn:
        report = ledger.reconcile(conn)
        assert report.ok, report.summary()
        held = dict(conn.execute(
            select(orders.c.user_id.label("u"), func.sum(orders.c.held_amount))
            .where(orders.c.held_asset == "USDT").group_by(orders.c.user_id)).all())
        from bitchange.db.models import Balance, LedgerAccount

        b, a = Balance.__table__, LedgerAccount.__table__
        locked = dict(conn.execute(
            select(a.c.user_id, b.c.locked).join(a, a.c.id == b.c.account_id)
            .where(b.c.asset == "USDT", a.c.user_id.is_not(None))).all())
        for user_id, amount in locked.items():
            assert amount == held.get(user_id, 0), f"user {user_id} locked {amount} != holds"
        closed_with_hold = conn.scalar(select(func.count()).select_from(orders).where(
            orders.c.status.not_in(("open", "partially_filled")), orders.c.held_amount != 0))
        assert closed_with_hold == 0
        overfilled = conn.scalar(select(func.count()).select_from(orders).where(
            orders.c.quantity.is_not(None), orders.c.filled_quantity > orders.c.quantity))
        assert overfilled == 0
