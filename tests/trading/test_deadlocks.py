"""Two traders trade opposite ways on two markets at once on PostgreSQL: on one market A buys
from B, on the other B buys from A, so each fill locks both traders' balances. The balance rows
are locked in one order, so no placement fails on a deadlock, and the books still balance.
And a placement PostgreSQL aborts anyway runs again, once, on a book rebuilt from the
database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from bitchange import db
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from bitchange.trading.tables import Order, Trade
from tests.postgres import abort_once_as_deadlock, inserts_tried, postgres_database
from tests.trading.conftest import BTC, USDT, Trader, assert_books_sound, make_trader, price

ROUNDS = 40  # per market: a resting sell, then a buy that fills it


@pytest.fixture
def pg(monkeypatch):  # type: ignore[no-untyped-def]
    with postgres_database(monkeypatch) as url:
        yield url


def _trade(symbol: str, seller: Trader, buyer: Trader, at: int, quantity: int,
           start: threading.Barrier, failures: list[str]) -> None:
    start.wait()
    for _ in range(ROUNDS):
        for trader, side in ((seller, "SELL"), (buyer, "BUY")):
            try:
                service.place_order(trader.user_id, symbol,
                                    OrderRequest(side, "limit", at, quantity))
            except Exception as exc:  # every failure counts, whatever it is
                failures.append(f"{symbol} {side}: {exc!r}")


def test_opposite_trades_on_two_markets_do_not_deadlock(pg):
    funds = {"BTC": 10 * BTC, "ETH": 100 * 10**8, "USDT": 1_000_000 * USDT}
    alice = make_trader("alice@example.com", funds)
    bob = make_trader("bob@example.com", funds)
    start, failures = threading.Barrier(2), []
    runs = [threading.Thread(target=_trade, args=(
                "BTC-USDT", bob, alice, price("60000"), BTC // 1000, start, failures)),
            threading.Thread(target=_trade, args=(
                "ETH-USDT", alice, bob, price("2000"), 10**8 // 100, start, failures))]
    for run in runs:
        run.start()
    for run in runs:
        run.join()

    assert failures == []
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(Trade.__table__)) == 2 * ROUNDS
    assert_books_sound()


def test_a_placement_aborted_after_matching_runs_again_on_a_rebuilt_book(pg):
    alice = make_trader("alice@example.com", {"USDT": 1_000_000 * USDT})
    bob = make_trader("bob@example.com", {"BTC": BTC})
    at, lot = price("60000"), BTC // 1000
    resting = service.place_order(bob.user_id, "BTC-USDT", OrderRequest("SELL", "limit", at,
                                                                        2 * lot))
    abort_once_as_deadlock("trades")  # after the engine matched, before anything commits

    placed = service.place_order(alice.user_id, "BTC-USDT", OrderRequest("BUY", "limit", at,
                                                                         lot))

    assert inserts_tried() == 2  # the first attempt was aborted, the second one committed
    assert (placed.status, placed.filled, placed.trades) == ("filled", lot, 1)
    # The first attempt's fill happened in the engine only: the book was rebuilt, not reused,
    # so the resting order lost one lot, not two, in the database and in memory alike.
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(Trade.__table__)) == 1
        remaining = conn.scalar(select(Order.__table__.c.remaining)
                                .where(Order.__table__.c.id == resting.order_id))
    assert remaining == lot
    assert service.depth("BTC-USDT") == ([], [(at, lot)])
    assert alice.balance("BTC")[0] + lot // 500 == lot  # the taker fee (20 bps) in BTC
    assert_books_sound()
