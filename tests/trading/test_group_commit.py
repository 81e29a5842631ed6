"""Group commit: work that arrives while a market's writer is busy runs together in one
transaction, each command in a savepoint (on SQLite; on PostgreSQL each command runs alone,
and the same outcomes hold). The writer's lock is held by the test while the commands queue
up, so the group is formed for certain, not by chance."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bitchange import db
from bitchange.db.models import User
from bitchange.trading import service
from bitchange.trading.service import OrderRequest, TradingError
from bitchange.trading.tables import Order
from tests.trading.conftest import (
    Trader,
    assert_books_sound,
    make_trader,
    price,
    qty,
    stale_copy,
)

SYMBOL = "BTC-USDT"


class _Arrivals(deque):  # type: ignore[type-arg]
    """The market's queue, telling the test when `expected` commands wait in it."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.expected = expected
        self.full = threading.Event()

    def append(self, item: Any) -> None:
        super().append(item)
        if len(self) >= self.expected:
            self.full.set()


@contextmanager
def queued(calls: list[Callable[[], Any]]) -> Iterator[list[Future]]:  # type: ignore[type-arg]
    """Start `calls` while the market's writer is held, release it once all of them wait."""
    live = service._live(SYMBOL)
    arrivals = _Arrivals(len(calls))
    live.waiting = arrivals
    with ThreadPoolExecutor(len(calls)) as pool:
        live.lock.acquire()
        try:
            futures = [pool.submit(call) for call in calls]
            assert arrivals.full.wait(30), "the commands did not queue"
        finally:
            live.lock.release()
        yield futures


@pytest.fixture
def commits(market) -> Iterator[list[int]]:
    """Commits of write transactions on the database, counted."""
    seen: list[int] = []
    engine = db.get_engine()

    def count(conn) -> None:  # type: ignore[no-untyped-def]
        seen.append(1)

    event.listen(engine, "commit", count)
    yield seen
    event.remove(engine, "commit", count)


def limit(trader: Trader, side: str, at: str, amount: str) -> Callable[[], Any]:
    return lambda: service.place_order(trader.user_id, SYMBOL, OrderRequest(
        side=side, kind="limit", price=price(at), quantity=qty(amount)))


def orders_of(trader: Trader) -> int:
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(Order.__table__)
                           .where(Order.__table__.c.user_id == trader.user_id))


def test_orders_that_wait_for_the_writer_commit_together_and_a_refusal_changes_nothing(
        alice, bob, commits) -> None:
    poor = make_trader("poor@example.com", {"USDT": 10 * 10**6})
    calls = [limit(alice, "SELL", "60000", "0.5"), limit(bob, "BUY", "60000", "0.2"),
             limit(poor, "BUY", "60000", "1"), limit(bob, "BUY", "60000", "0.3")]
    commits.clear()
    with queued(calls) as futures:
        pass
    sell, first_buy, refused, second_buy = futures
    # The four commands in one transaction; alone (PostgreSQL), three commits and a rollback.
    assert len(commits) == (1 if db.is_sqlite() else 3)
    assert sell.result().status == "open"
    assert (first_buy.result().status, second_buy.result().status) == ("filled", "filled")
    with pytest.raises(TradingError) as refusal:
        refused.result()
    assert refusal.value.reason == "INSUFFICIENT_BALANCE"
    assert orders_of(poor) == 0 and poor.balance("USDT") == (10 * 10**6, 0)
    assert alice.balance("BTC") == (qty("9.5"), 0)  # her sell filled by both buys
    assert_books_sound()


def test_a_command_failing_unexpectedly_in_a_group_leaves_the_others_to_run_alone(
        alice, bob, commits) -> None:
    def broken(conn, live, seq) -> None:  # type: ignore[no-untyped-def]
        service._bump(conn, live, SYMBOL, seq)  # writes, then fails: the bump must not stay
        raise RuntimeError("a bug")

    calls = [limit(alice, "SELL", "60000", "0.5"),
             lambda: service._run_on_market(SYMBOL, broken), limit(bob, "BUY", "60000", "0.5")]
    with db.read() as conn:
        seq_before = service._LOCK_MARKET.scalar(conn, {"symbol": SYMBOL})
    with queued(calls) as futures:
        pass
    sell, failed, buy = futures
    with pytest.raises(RuntimeError, match="a bug"):
        failed.result()
    assert (sell.result().status, buy.result().status) == ("open", "filled")
    with db.read() as conn:  # two placements moved the market, the broken command did not
        assert service._LOCK_MARKET.scalar(conn, {"symbol": SYMBOL}) == seq_before + 2
    assert_books_sound()


def test_a_group_keeps_the_book_the_database_has(alice, bob) -> None:
    """The in-memory book after a group (with a refusal in the middle) equals the one rebuilt
    from the database: what the group matched is what it committed."""
    calls = [limit(alice, "SELL", "60000", "0.5"), limit(alice, "SELL", "60100", "0.5"),
             lambda: service.place_order(bob.user_id, SYMBOL, OrderRequest(
                 side="BUY", kind="limit", price=price("60000"), quantity=qty("0.1"),
                 post_only=True)),  # would take: refused after the two sells rested
             limit(bob, "BUY", "60100", "0.7")]
    with queued(calls) as futures:
        pass
    with pytest.raises(TradingError):
        futures[2].result()
    live_depth = service.depth(SYMBOL)
    service.forget_books()
    assert service.depth(SYMBOL) == live_depth == ([], [(price("60100"), qty("0.3"))])
    assert_books_sound()


def test_a_group_catches_up_a_stale_book_whatever_its_first_command_did(alice, bob) -> None:
    """This process's book lags (another writer placed an ask); the group's first command is
    refused before it looks at the book, the second one changes nothing (as a cancel that
    finds nothing to cancel): the third still matches against the book as the database has
    it, and takes that ask."""
    service.depth(SYMBOL)  # this process's book, empty
    stale, stale_seq = stale_copy(SYMBOL)
    service.place_order(alice.user_id, SYMBOL, OrderRequest(  # in "another process"
        side="SELL", kind="limit", price=price("60000"), quantity=qty("0.5")))
    live = service._live(SYMBOL)
    live.book, live.seq = stale, stale_seq  # this process slept through it
    frozen = make_trader("frozen@example.com", {"USDT": 100_000 * 10**6})
    with db.write() as conn:
        conn.execute(User.__table__.update().where(User.__table__.c.id == frozen.user_id)
                     .values(frozen_at=func.now()))
    calls = [lambda: service.place_order(frozen.user_id, SYMBOL, OrderRequest(
                 side="BUY", kind="limit", price=price("60000"), quantity=qty("0.1"))),
             lambda: service._run_on_market(SYMBOL, lambda conn, live, seq: 0),
             limit(bob, "BUY", "60000", "0.2")]
    with queued(calls) as futures:
        pass
    with pytest.raises(TradingError, match="frozen"):
        futures[0].result()
    assert futures[1].result() == 0
    bid = futures[2].result()
    assert (bid.status, bid.filled) == ("filled", qty("0.2"))
    live_depth = service.depth(SYMBOL)
    service.forget_books()
    assert service.depth(SYMBOL) == live_depth == ([], [(price("60000"), qty("0.3"))])
    assert_books_sound()


def test_authorize_runs_in_the_commands_transaction_and_a_refusal_changes_nothing(
        alice, bob) -> None:
    """The caller's check (`authorize`, the API's key) runs on the placement's connection,
    inside its savepoint: what it sees is the group's transaction, and its refusal undoes only
    its own command."""
    seen: list[int] = []

    def refuse(conn) -> bool:  # type: ignore[no-untyped-def]
        # The sell before it in the group is visible here: the same transaction.
        seen.append(conn.scalar(select(func.count()).select_from(Order.__table__)))
        conn.execute(User.__table__.update().where(User.__table__.c.id == bob.user_id)
                     .values(frozen_at=func.now()))  # undone with the refusal
        return False

    calls = [limit(alice, "SELL", "60000", "0.5"),
             lambda: service.place_order(bob.user_id, SYMBOL, OrderRequest(
                 side="BUY", kind="limit", price=price("60000"), quantity=qty("0.1")),
                 authorize=refuse),
             lambda: service.place_order(bob.user_id, SYMBOL, OrderRequest(
                 side="BUY", kind="limit", price=price("60000"), quantity=qty("0.2")),
                 authorize=lambda conn: True)]
    with queued(calls) as futures:
        pass
    with pytest.raises(TradingError) as refusal:
        futures[1].result()
    assert refusal.value.reason == "NOT_AUTHORIZED" and seen == [1]
    assert futures[2].result().filled == qty("0.2")  # bob is not frozen: the write was undone
    assert orders_of(bob) == 1
    assert_books_sound()
