"""Several OS processes trade one market at once, on SQLite and on PostgreSQL: no order fills
beyond its quantity, no acknowledged order is lost, and the books still balance."""

from __future__ import annotations

import multiprocessing
import os
import random
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from bitchange import db
from bitchange.config import reload_settings
from bitchange.engine import OrderBook
from bitchange.trading import service
from bitchange.trading.service import OrderRequest, TradingError
from bitchange.trading.tables import Order, Trade
from tests.trading.conftest import USDT, assert_books_sound, make_trader, price, qty

SYMBOL = "BTC-USDT"
PROCESSES = 4
ORDERS_PER_PROCESS = 60


def _trade_randomly(database_url: str, user_ids: list[int], seed: int, done):  # type: ignore[no-untyped-def]
    """Runs in a child process: random limit/market orders and cancels. Returns the ids of the
    orders the service acknowledged, and this process's book once every process is `done`
    (brought up to date with what the others changed since it last looked)."""
    os.environ["DATABASE_URL"] = database_url
    reload_settings()
    db.dispose()
    rng = random.Random(seed)
    acknowledged = []
    for _ in range(ORDERS_PER_PROCESS):
        user_id = rng.choice(user_ids)
        roll = rng.random()
        try:
            if roll < 0.2:
                with db.read() as conn:
                    mine = list(conn.scalars(select(Order.__table__.c.id).where(
                        Order.__table__.c.user_id == user_id,
                        Order.__table__.c.status.in_(("open", "partially_filled")))))
                if mine:
                    service.cancel_order(user_id, rng.choice(mine))
                continue
            side = rng.choice(["BUY", "SELL"])
            if roll < 0.3:
                request = OrderRequest(side=side, kind="market", quantity=qty("0.001"))
            else:
                request = OrderRequest(side=side, kind="limit",
                                       price=price(str(rng.randint(59_990, 60_010))),
                                       quantity=qty("0.001") * rng.randint(1, 5))
            acknowledged.append(service.place_order(user_id, SYMBOL, request).order_id)
        except TradingError:
            pass  # e.g. a cancel racing a fill, or no liquidity for a market order
    done.wait()
    return acknowledged, service.book_snapshot(SYMBOL)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        yield from _prepared(url, monkeypatch)
        return
    admin = create_engine("postgresql://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT")
    name = f"bitchange_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield from _prepared(f"postgresql://postgres@127.0.0.1:5432/{name}", monkeypatch)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepared(url, monkeypatch):
    from bitchange.setup import prepare_database

    monkeypatch.setenv("DATABASE_URL", url)
    reload_settings()
    db.dispose()
    prepare_database()
    service.forget_books()
    yield url
    db.dispose()
    service.forget_books()


def test_processes_trading_one_market_concurrently(shared_database):
    traders = [make_trader(f"t{i}@example.com", {"BTC": 100 * 10**8, "USDT": 10_000_000 * USDT})
               for i in range(4)]
    user_ids = [t.user_id for t in traders]
    db.dispose()  # no pooled connections cross the fork
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(PROCESSES) as pool:
        done = manager.Barrier(PROCESSES)
        results = pool.starmap(_trade_randomly, [(shared_database, user_ids, seed, done)
                                                 for seed in range(PROCESSES)])
    acknowledged = {order_id for ids, _ in results for order_id in ids}
    assert len(acknowledged) > PROCESSES * ORDERS_PER_PROCESS // 2

    orders, trades = Order.__table__, Trade.__table__
    with db.read() as conn:
        stored = set(conn.scalars(select(orders.c.id)))
        assert acknowledged <= stored, "an acknowledged order is missing"
        assert conn.scalar(select(func.count()).select_from(trades)) > 0
        # Every order's fills add up, from both sides of each trade.
        filled = dict(conn.execute(select(orders.c.id, orders.c.filled_quantity)).all())
        by_order: dict[int, int] = {}
        for maker, taker, quantity in conn.execute(
                select(trades.c.maker_order_id, trades.c.taker_order_id, trades.c.quantity)):
            by_order[maker] = by_order.get(maker, 0) + quantity
            by_order[taker] = by_order.get(taker, 0) + quantity
        assert {k: v for k, v in filled.items() if v} == by_order
        book = OrderBook(service.rules_for(*_market_and_base(conn)))
        book.load(service.open_orders_of_market(conn, SYMBOL))  # raises if crossed
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is None or ask is None or bid < ask
    # No process is left with a stale book: each caught up to the database's book exactly.
    for _, snapshot in results:
        assert snapshot == book.snapshot()
    assert_books_sound()


def _market_and_base(conn):
    from bitchange.trading.markets import assets, get_market

    market = get_market(conn, SYMBOL)
    return market, assets(conn)[market.base]
