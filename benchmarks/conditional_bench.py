"""Conditional orders: placement throughput with 0 and with N pending conditional orders in the
market (same run, same stream; the ratio is the cost of waiting orders), and one price move that
sets off K stop orders in one command (its time).

    .venv/bin/python benchmarks/conditional_bench.py                       # 10,000 / 1,000
    .venv/bin/python benchmarks/conditional_bench.py --pending 200 --stops 50 --orders 200 --runs 1

Placement: the stream alternates a resting limit sell and a limit buy that crosses it (half the
orders trade, so every other order runs the trigger check), through the full service path on
SQLite with durable commits (the two markets take turns in chunks, so load drift on a shared
machine hits both alike); and the same stream straight into the engine. The pending orders
are static stop-loss sells below the price, stop-loss buys above it and trailing sells, none
close enough to trigger. The cascade: K stop-market sells wait at one stop price above a bid
big enough for all of them; one trade at that price sets them all off, and they run, settle and
commit in that one command. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SYMBOL = "BTC-USDT"
USDT, BTC = 10**6, 10**8
PRICE = 60_000 * USDT
LOT = 10_000  # BTC-USDT's lot: 0.0001 BTC
QTY = 2 * LOT  # 0.0002 BTC: above the market's 10 USDT minimum at these prices


def _prepare(path: Path, traders: int) -> list[int]:
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    from bitchange import db, ledger
    from bitchange.accounts.users import create_user
    from bitchange.config import reload_settings
    from bitchange.setup import prepare_database
    from bitchange.trading import service

    reload_settings()
    db.dispose()
    service.forget_books()
    prepare_database()
    users = []
    with db.write() as conn:
        for n in range(traders):
            user = create_user(conn, f"t{n}@bench.local", "benchmark password", verified=True)
            account = ledger.account_for_user(conn, user)
            ledger.credit_deposit(conn, account, "BTC", 10**15)
            ledger.credit_deposit(conn, account, "USDT", 10**17)
            users.append(user)
    return users


def _pending_requests(count: int):  # type: ignore[no-untyped-def]
    from bitchange.trading.service import OrderRequest

    for n in range(count):
        kind = n % 10
        offset = (1_000 + n % 5_000) * USDT // 100  # 10.00 .. 59.99 USDT from the price
        if kind < 5:
            yield OrderRequest(side="SELL", kind="limit", price=PRICE - 2 * offset - 1_000 * USDT,
                               quantity=QTY, stop_type="STOP_LOSS",
                               stop_price=PRICE - offset - 1_000 * USDT)
        elif kind < 9:
            yield OrderRequest(side="BUY", kind="limit", price=PRICE + 2 * offset + 1_000 * USDT,
                               quantity=QTY, stop_type="STOP_LOSS",
                               stop_price=PRICE + offset + 1_000 * USDT)
        else:
            yield OrderRequest(side="SELL", kind="market", quantity=QTY, stop_type="STOP_LOSS",
                               trailing_delta=1_000 + n % 1_000)


def _stream(users: list[int], orders: int):  # type: ignore[no-untyped-def]
    from bitchange.trading.service import OrderRequest

    sell = OrderRequest(side="SELL", kind="limit", price=PRICE, quantity=QTY)
    buy = OrderRequest(side="BUY", kind="limit", price=PRICE, quantity=QTY)
    for i in range(orders):
        yield (users[0], sell) if i % 2 == 0 else (users[1], buy)


def _use(path: Path) -> None:
    """Point the service at another database file (its books are rebuilt on first use)."""
    from bitchange import db
    from bitchange.config import reload_settings
    from bitchange.trading import service

    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    reload_settings()
    db.dispose()
    service.forget_books()


def placement(orders: int, pending: int, workdir: Path, chunk: int = 100) -> tuple[float, float]:
    """Orders/s of the stream through the service with 0 and with `pending` conditional orders
    waiting. The two markets live in two database files, prepared first; then the stream runs
    in chunks taking turns between them, so a machine whose load drifts (shared CI runners)
    slows both alike. After each switch one untimed pair of orders rebuilds the book."""
    from bitchange import db, ledger
    from bitchange.trading import service

    paths = {count: workdir / f"placement-{count}.db" for count in (0, pending)}
    users = {}
    for count, path in paths.items():
        users[count] = _prepare(path, 3)
        for user, request in _stream(users[count], 2):  # a last price for the stops
            service.place_order(user, SYMBOL, request)
        for request in _pending_requests(count):
            service.place_order(users[count][2], SYMBOL, request)
        assert service.pending_count(SYMBOL) == count
    elapsed = dict.fromkeys(paths, 0.0)
    done = 0
    while done < orders:
        size = min(chunk, orders - done)
        for count, path in paths.items():
            _use(path)
            for user, request in _stream(users[count], 2):
                service.place_order(user, SYMBOL, request)
            start = time.perf_counter()
            for user, request in _stream(users[count], size):
                service.place_order(user, SYMBOL, request)
            elapsed[count] += time.perf_counter() - start
        done += size
    for count, path in paths.items():
        _use(path)
        assert service.pending_count(SYMBOL) == count  # nothing triggered
        with db.read() as conn:
            assert ledger.reconcile(conn).ok
    db.dispose()
    return orders / elapsed[0], orders / elapsed[pending]


def engine_placement(orders: int, pending: int) -> float:
    """The same stream straight into the engine, with `pending` conditional orders."""
    from bitchange.engine import MarketRules, OrderBook, PendingOrder, Side, gc_policy

    book = OrderBook(MarketRules(tick_size=10_000, lot_size=LOT, min_notional=0,
                                 base_scale=BTC, maker_fee_bps=10, taker_fee_bps=20))
    next_id = 1
    for side in (Side.SELL, Side.BUY):
        book.submit_limit(next_id, 1 + next_id % 2, side, PRICE, QTY)
        next_id += 1
    for request in _pending_requests(pending):
        book.submit_conditional(PendingOrder(
            next_id, 3, Side(request.side), request.side == "BUY", request.stop_price,
            request.trailing_delta, request.price, request.quantity))
        next_id += 1
    assert book.pending_count() == pending
    gc_policy.apply()  # as a serving process does once its books are loaded
    start = time.perf_counter()
    for i in range(orders):
        side = Side.SELL if i % 2 == 0 else Side.BUY
        book.submit_limit(next_id, 1 + i % 2, side, PRICE, QTY)
        next_id += 1
    return orders / (time.perf_counter() - start)


def cascade(stops: int, workdir: Path) -> tuple[float, int]:
    """Seconds of the one command whose trade sets off `stops` stop-market sells (each a
    different trader, each filled against one big bid): matching, settlement, commit."""
    from bitchange import db, ledger
    from bitchange.trading import service
    from bitchange.trading.service import OrderRequest

    users = _prepare(workdir / "cascade.db", 3)
    stopper, maker, mover = users
    service.place_order(maker, SYMBOL, OrderRequest(side="SELL", kind="limit", price=PRICE,
                                                    quantity=QTY))
    service.place_order(mover, SYMBOL, OrderRequest(side="BUY", kind="limit", price=PRICE,
                                                    quantity=QTY))
    stop = PRICE - 10 * USDT
    for _ in range(stops):
        service.place_order(stopper, SYMBOL, OrderRequest(
            side="SELL", kind="market", quantity=QTY, stop_type="STOP_LOSS", stop_price=stop))
    # The bid the trigger trade hits, and the bid below it that absorbs every stop.
    service.place_order(maker, SYMBOL, OrderRequest(side="BUY", kind="limit", price=stop,
                                                    quantity=QTY))
    service.place_order(maker, SYMBOL, OrderRequest(side="BUY", kind="limit",
                                                    price=stop - 10 * USDT,
                                                    quantity=QTY * stops))
    start = time.perf_counter()
    placed = service.place_order(mover, SYMBOL, OrderRequest(side="SELL", kind="limit",
                                                             price=stop, quantity=QTY))
    elapsed = time.perf_counter() - start
    assert service.pending_count(SYMBOL) == 0
    with db.read() as conn:
        assert ledger.reconcile(conn).ok
    db.dispose()
    return elapsed, len(placed.triggered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2_000)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--stops", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        empty, full, engine_empty, engine_full, cascades = [], [], [], [], []
        for _ in range(args.runs):
            rates = placement(args.orders, args.pending, workdir)
            empty.append(rates[0])
            full.append(rates[1])
            for _ in range(5):  # alternating, for the same reason
                engine_empty.append(engine_placement(args.orders * 5, 0))
                engine_full.append(engine_placement(args.orders * 5, args.pending))
            cascades.append(cascade(args.stops, workdir))
    e, f = statistics.median(empty), statistics.median(full)
    ee, ef = statistics.median(engine_empty), statistics.median(engine_full)
    print(f"placement, service (SQLite, durable): {e:,.0f} orders/s with 0 pending, "
          f"{f:,.0f} with {args.pending:,} pending: {f / e:.2f}x "
          f"({(1 - f / e) * 100:+.1f}% slower)")
    print(f"placement, engine only: {ee:,.0f} orders/s with 0 pending, {ef:,.0f} with "
          f"{args.pending:,} pending: {ef / ee:.2f}x")
    seconds = statistics.median(t for t, _ in cascades)
    print(f"cascade: one trade sets off {cascades[0][1]:,} stops, run and settled in one "
          f"command: {seconds * 1000:,.0f} ms ({seconds / max(cascades[0][1], 1) * 1e6:,.0f} "
          f"us per stop); median of {args.runs}")


if __name__ == "__main__":
    main()
