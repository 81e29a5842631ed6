"""Four OS processes place, cancel and trigger conditional orders on one market at once (SQLite
and PostgreSQL): every process ends with the database's trigger state, and no order is ever
triggered twice."""

from __future__ import annotations

import multiprocessing
import os
import random

from sqlalchemy import select

from bitchange import db
from bitchange.config import reload_settings
from bitchange.trading import service
from bitchange.trading.service import OcoRequest, OrderRequest, TradingError
from bitchange.trading.tables import Order
from tests.trading.conftest import USDT, assert_books_sound, make_trader, price, qty
from tests.trading.test_concurrency import shared_database  # noqa: F401 (a fixture)

SYMBOL = "BTC-USDT"
PROCESSES = 4
COMMANDS = 60
_orders = Order.__table__


def _request(rng: random.Random) -> OrderRequest | OcoRequest:
    roll = rng.random()
    amount = qty("0.001") * rng.randint(1, 3)
    if roll < 0.45:
        return OrderRequest(side=rng.choice(["BUY", "SELL"]), kind="limit",
                            price=price(str(rng.randint(59_990, 60_010))), quantity=amount)
    if roll < 0.55:
        return OrderRequest(side=rng.choice(["BUY", "SELL"]), kind="market", quantity=amount)
    if roll < 0.7:
        offset = rng.randint(1, 8)
        if rng.random() < 0.5:
            return OrderRequest(side="SELL", kind="limit", price=price(str(60_000 - offset - 3)),
                                quantity=amount, stop_type="STOP_LOSS",
                                stop_price=price(str(60_000 - offset)))
        return OrderRequest(side="BUY", kind="limit", price=price(str(60_000 + offset + 3)),
                            quantity=amount, stop_type="STOP_LOSS",
                            stop_price=price(str(60_000 + offset)))
    if roll < 0.8:
        return OrderRequest(side="SELL", kind="market", quantity=amount, stop_type="STOP_LOSS",
                            trailing_delta=rng.choice([10, 20]))
    if roll < 0.88:
        return OcoRequest(side="SELL", quantity=amount,
                          above=OrderRequest(side="SELL", kind="limit", post_only=True,
                                             price=price(str(rng.randint(60_011, 60_015)))),
                          below=OrderRequest(side="SELL", kind="market", stop_type="STOP_LOSS",
                                             stop_price=price(str(rng.randint(59_985, 59_989)))))
    return OrderRequest(side="SELL", kind="market", quantity=amount)


def _trade_randomly(database_url: str, user_ids: list[int], seed: int, done):  # type: ignore[no-untyped-def]
    os.environ["DATABASE_URL"] = database_url
    reload_settings()
    db.dispose()
    rng = random.Random(seed)
    triggered: list[int] = []
    try:
        _commands(rng, user_ids, triggered)
    finally:
        done.wait()  # the others wait for this process even if it failed
    return triggered, service.trigger_snapshot(SYMBOL), service.book_snapshot(SYMBOL)


def _commands(rng: random.Random, user_ids: list[int], triggered: list[int]) -> None:
    for _ in range(COMMANDS):
        user_id = rng.choice(user_ids)
        try:
            if rng.random() < 0.15:
                with db.read() as conn:
                    mine = list(conn.scalars(select(_orders.c.id).where(
                        _orders.c.user_id == user_id,
                        _orders.c.status.in_(service.LIVE_STATUSES))))
                if mine:
                    service.cancel_order(user_id, rng.choice(mine))
                continue
            request = _request(rng)
            if isinstance(request, OcoRequest):
                service.place_oco(user_id, SYMBOL, request)
            else:
                triggered += service.place_order(user_id, SYMBOL, request).triggered
        except TradingError:
            pass  # would trigger at once, no liquidity, a cancel racing a fill...


def test_processes_trigger_conditional_orders_concurrently(shared_database) -> None:  # noqa: F811
    traders = [make_trader(f"t{i}@example.com", {"BTC": 100 * 10**8, "USDT": 10_000_000 * USDT})
               for i in range(4)]
    user_ids = [t.user_id for t in traders]
    # A last price to start from, and bids and asks around it.
    service.place_order(user_ids[0], SYMBOL, OrderRequest(side="SELL", kind="limit",
                                                          price=price("60000"),
                                                          quantity=qty("0.001")))
    service.place_order(user_ids[1], SYMBOL, OrderRequest(side="BUY", kind="limit",
                                                          price=price("60000"),
                                                          quantity=qty("0.001")))
    db.dispose()  # no pooled connections cross the fork
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(PROCESSES) as pool:
        done = manager.Barrier(PROCESSES)
        results = pool.starmap(_trade_randomly, [(shared_database, user_ids, seed, done)
                                                 for seed in range(PROCESSES)])
    triggered = [order_id for ids, _, _ in results for order_id in ids]
    assert triggered, "the run set off no conditional order"
    assert len(triggered) == len(set(triggered)), "an order was triggered twice"
    with db.read() as conn:
        stamped = set(conn.scalars(select(_orders.c.id).where(
            _orders.c.triggered_at.is_not(None))))
        assert set(triggered) <= stamped
        pending = conn.scalar(select(_orders.c.id).where(
            _orders.c.id.in_(triggered), _orders.c.status == service.PENDING))
        assert pending is None
    # The database's trigger state, rebuilt from scratch, is every process's.
    service.forget_books()
    rebuilt, book = service.trigger_snapshot(SYMBOL), service.book_snapshot(SYMBOL)
    assert rebuilt[1], "no pending orders left to compare"
    for _, trigger_state, book_state in results:
        assert trigger_state == rebuilt
        assert book_state == book
    assert_books_sound()
