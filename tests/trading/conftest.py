from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bitchange import db, ledger
from bitchange.accounts.users import create_user
from bitchange.engine import OrderBook
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
    """Conservation holds; every locked unit is explained by an open order's hold, and each
    open order holds exactly what it still reserves; fills agree on both sides."""
    from bitchange.db.models import Balance, LedgerAccount
    from bitchange.trading.markets import assets, get_market
    from bitchange.trading.tables import Trade

    orders, trades = Order.__table__, Trade.__table__
    b, a = Balance.__table__, LedgerAccount.__table__
    with db.read() as conn:
        report = ledger.reconcile(conn)
        assert report.ok, report.summary()
        held = {(user, asset): amount for user, asset, amount in conn.execute(
            select(orders.c.user_id, orders.c.held_asset, func.sum(orders.c.held_amount))
            .group_by(orders.c.user_id, orders.c.held_asset))}
        locked = {(user, asset): amount for user, asset, amount in conn.execute(
            select(a.c.user_id, b.c.asset, b.c.locked).join(a, a.c.id == b.c.account_id)
            .where(a.c.user_id.is_not(None)))}
        for key in held.keys() | locked.keys():
            assert locked.get(key, 0) == held.get(key, 0), f"{key}: locked != open holds"
        for o in conn.execute(select(orders).where(orders.c.status.in_(service.OPEN_STATUSES))):
            if o.side == "SELL":
                assert o.held_amount == o.remaining, f"order {o.id} holds {o.held_amount}"
            else:
                market = get_market(conn, o.symbol)
                scale = 10 ** assets(conn)[market.base].precision  # type: ignore[union-attr]
                assert o.held_amount == o.price * o.remaining // scale, f"order {o.id}"
        closed_with_hold = conn.scalar(select(func.count()).select_from(orders).where(
            orders.c.status.not_in(service.LIVE_STATUSES), orders.c.held_amount != 0))
        assert closed_with_hold == 0
        overfilled = conn.scalar(select(func.count()).select_from(orders).where(
            orders.c.quantity.is_not(None), orders.c.filled_quantity > orders.c.quantity))
        assert overfilled == 0
        fills: dict[int, int] = {}
        for maker, taker, quantity in conn.execute(
                select(trades.c.maker_order_id, trades.c.taker_order_id, trades.c.quantity)):
            fills[maker] = fills.get(maker, 0) + quantity
            fills[taker] = fills.get(taker, 0) + quantity
        for order_id, filled in conn.execute(select(orders.c.id, orders.c.filled_quantity)):
            assert filled == fills.get(order_id, 0), f"order {order_id}: fills disagree"


def stale_copy(symbol: str):  # type: ignore[no-untyped-def]
    """A second copy of the market's book as it is now, with its seq: what another process
    that stops looking at this moment holds."""
    live = service._live(symbol)
    with db.read() as conn:
        book = OrderBook(live.book.rules)
        book.load(service.open_orders_of_market(conn, symbol))
    return book, live.seq
