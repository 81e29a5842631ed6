"""Persisted order placement: orders/s and latency through the full path (validate, hold,
match, settle, ledger, candles, commit) on SQLite with durable commits (WAL, synchronous=FULL),
against raw `sqlite3` executing an equivalent transaction in the same run.

    .venv/bin/python benchmarks/placement_bench.py                # 5,000 orders, 3 runs
    .venv/bin/python benchmarks/placement_bench.py --orders 200 --runs 1   # CI smoke

The stream alternates a resting limit sell and a limit buy that crosses it, so half the orders
rest and half trade (one fill each). The baseline writes the same rows into the same schema
(a database migrated like the service's, with its indexes and constraints) with hand-written
`sqlite3` statements: order rows, conditional balance updates for the hold and then the netted
settlement and release, one ledger transaction with all its entries, the trade row, candle
upserts, the market sequence bump, one durable commit per order. Prints figures only; asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SYMBOL = "BTC-USDT"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _prepare(path: Path) -> dict[str, int]:
    """A migrated database with a funded seller and buyer; returns their ids and accounts."""
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
    with db.write() as conn:
        seller = create_user(conn, "seller@bench.local", "benchmark password", verified=True)
        buyer = create_user(conn, "buyer@bench.local", "benchmark password", verified=True)
        ids = {"seller": seller, "buyer": buyer,
               "seller_account": ledger.account_for_user(conn, seller),
               "buyer_account": ledger.account_for_user(conn, buyer),
               "fees": ledger.system_account(conn, ledger.FEES)}
        for account, asset, amount in ((ids["seller_account"], "BTC", 10**15),
                                       (ids["buyer_account"], "USDT", 10**17),
                                       (ids["seller_account"], "USDT", 1),
                                       (ids["buyer_account"], "BTC", 1),
                                       (ids["fees"], "BTC", 1), (ids["fees"], "USDT", 1)):
            ledger.credit_deposit(conn, account, asset, amount)
    return ids


def run_service(orders: int, workdir: Path, cpu: list[float] | None = None) -> list[float]:
    """The service's latencies; `cpu` gets the CPU seconds of this process over the orders."""
    ids = _prepare(workdir / "service.db")
    from bitchange import db, ledger
    from bitchange.trading import service
    from bitchange.trading.service import OrderRequest

    sell = OrderRequest(side="SELL", kind="limit", price=60_000 * 10**6, quantity=10**6)
    buy = OrderRequest(side="BUY", kind="limit", price=60_001 * 10**6, quantity=10**6)
    latencies = []
    cpu_start = time.process_time()
    for i in range(orders):
        user, request = (ids["seller"], sell) if i % 2 == 0 else (ids["buyer"], buy)
        start = time.perf_counter()
        service.place_order(user, SYMBOL, request)
        latencies.append(time.perf_counter() - start)
    if cpu is not None:
        cpu.append(time.process_time() - cpu_start)
    with db.read() as conn:
        assert ledger.reconcile(conn).ok
    db.dispose()
    return latencies


def run_baseline(orders: int, workdir: Path) -> list[float]:
    """The same rows in the same schema (tables, indexes, constraints), written by hand-written
    SQL through `sqlite3`: the floor for what the service does per order."""
    path = workdir / "baseline.db"
    ids = _prepare(path)
    from bitchange import db

    db.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    seller, buyer, fees = ids["seller_account"], ids["buyer_account"], ids["fees"]
    update = ("UPDATE balances SET {b} = {b} + ? WHERE account_id = ? AND asset = ? "
              "AND (allow_negative OR {b} + ? >= 0)")
    bucket_sql = {"available": update.format(b="available"), "locked": update.format(b="locked")}

    def apply(entries: list[tuple[int, str, str, int]]) -> None:
        totals: dict[tuple[int, str, str], int] = {}
        for account, asset, bucket, amount in entries:
            totals[(account, asset, bucket)] = totals.get((account, asset, bucket), 0) + amount
        for (account, asset, bucket), amount in sorted(totals.items(), key=lambda i: i[1] > 0):
            if amount:
                cursor = conn.execute(bucket_sql[bucket], (amount, account, asset, amount))
                assert cursor.rowcount == 1

    def journal(entries: list[tuple[int, str, str, int]], ref: int, now: str) -> None:
        tx = conn.execute("INSERT INTO ledger_transactions (kind, ref_type, ref_id, memo, "
                          "created_at) VALUES ('order', 'order', ?, '', ?)", (str(ref), now)
                          ).lastrowid
        conn.executemany("INSERT INTO ledger_entries (transaction_id, account_id, asset, bucket, "
                         "amount) VALUES (?, ?, ?, ?, ?)", [(tx, *e) for e in entries])

    new_order = ("INSERT INTO orders (symbol, user_id, side, kind, tif, post_only, price, "
                 "quantity, quote_amount, filled_quantity, filled_quote, fee_total, remaining, "
                 "held_asset, held_amount, status, book_seq, created_at, updated_at) VALUES "
                 "(?, ?, ?, 'limit', 'GTC', 0, ?, ?, NULL, 0, 0, 0, 0, ?, ?, 'open', ?, ?, ?)")
    intervals = (("1m", 60), ("5m", 300), ("15m", 900), ("1h", 3600), ("4h", 14400),
                 ("1d", 86400))
    latencies = []
    resting = 0
    qty, notional, price = 10**6, 600_000_000, 60_000 * 10**6
    for i in range(orders):
        start = time.perf_counter()
        now = time.strftime("%Y-%m-%d %H:%M:%S.000000")
        conn.execute("BEGIN IMMEDIATE")
        seq = conn.execute("SELECT seq FROM market_sequences WHERE symbol = ?",
                           (SYMBOL,)).fetchone()[0]
        conn.execute("SELECT email_verified_at, frozen_at FROM users WHERE id = ?",
                     (ids["seller"],)).fetchone()
        if i % 2 == 0:  # resting sell: order row, hold, order update
            resting = conn.execute(new_order, (SYMBOL, ids["seller"], "SELL", price, qty, "BTC",
                                               qty, seq + 1, now, now)).lastrowid
            hold = [(seller, "BTC", "available", -qty), (seller, "BTC", "locked", qty)]
            apply(hold)
            journal(hold, resting, now)
            conn.execute("UPDATE orders SET remaining = ?, held_amount = ?, updated_at = ?, "
                         "book_seq = ? WHERE id = ?", (qty, qty, now, seq + 1, resting))
        else:  # crossing buy: order, hold, two settlements, trade, maker, candles, release
            taker = conn.execute(new_order, (SYMBOL, ids["buyer"], "BUY", price + 10**6, qty,
                                             "USDT", 600_010_000, seq + 1, now, now)).lastrowid
            hold = [(buyer, "USDT", "available", -600_010_000),
                    (buyer, "USDT", "locked", 600_010_000)]
            apply(hold)
            settlement = [
                (seller, "BTC", "locked", -qty), (buyer, "BTC", "available", qty - 200),
                (fees, "BTC", "available", 200), (buyer, "USDT", "locked", -notional),
                (seller, "USDT", "available", notional - 60_000),
                (fees, "USDT", "available", 60_000),
                (buyer, "USDT", "locked", -10_000), (buyer, "USDT", "available", 10_000)]
            conn.execute("INSERT INTO trades (symbol, maker_order_id, taker_order_id, "
                         "maker_user_id, taker_user_id, taker_side, price, quantity, notional, "
                         "maker_fee, taker_fee, created_at) VALUES "
                         "(?, ?, ?, ?, ?, 'BUY', ?, ?, ?, ?, ?, ?)",
                         (SYMBOL, resting, taker, ids["seller"], ids["buyer"], price, qty,
                          notional, 60_000, 200, now))
            conn.execute("UPDATE orders SET filled_quantity = filled_quantity + ?, "
                         "filled_quote = filled_quote + ?, fee_total = fee_total + ?, "
                         "remaining = 0, held_amount = held_amount - ?, status = 'filled', "
                         "updated_at = ?, book_seq = ? WHERE id = ?",
                         (qty, notional, 60_000, qty, now, seq + 1, resting))
            stamp = int(time.time())
            conn.executemany(
                "INSERT INTO candles (symbol, interval, open_time, open, high, low, close, "
                "volume, quote_volume, trade_count, taker_buy_volume, taker_buy_quote_volume) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT (symbol, interval, open_time) DO UPDATE SET "
                "high = max(candles.high, excluded.high), low = min(candles.low, excluded.low), "
                "close = excluded.close, volume = candles.volume + excluded.volume, "
                "quote_volume = candles.quote_volume + excluded.quote_volume, "
                "trade_count = candles.trade_count + 1, "
                "taker_buy_volume = candles.taker_buy_volume + excluded.taker_buy_volume, "
                "taker_buy_quote_volume = candles.taker_buy_quote_volume "
                "+ excluded.taker_buy_quote_volume",
                [(SYMBOL, name, stamp - stamp % seconds, price, price, price, price, qty,
                  notional, qty, notional) for name, seconds in intervals])
            apply(settlement)
            journal(hold + settlement, taker, now)
            conn.execute("UPDATE orders SET filled_quantity = ?, filled_quote = ?, "
                         "fee_total = ?, status = 'filled', held_amount = 0, updated_at = ?, "
                         "book_seq = ? WHERE id = ?", (qty, notional, 200, now, seq + 1, taker))
        conn.execute("UPDATE market_sequences SET seq = ? WHERE symbol = ?", (seq + 1, SYMBOL))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - start)
    conn.close()
    return latencies


def _summary(name: str, latencies: list[float], elapsed: float = 0.0) -> dict[str, float]:
    """Rate over `elapsed` wall seconds when requests overlapped, else over their sum."""
    return {
        "name": name,
        "rate": len(latencies) / (elapsed or sum(latencies)),
        "p50": _percentile(latencies, 0.50) * 1e3,
        "p99": _percentile(latencies, 0.99) * 1e3,
        "max": max(latencies) * 1e3,
    }


def _print_medians(*sides: list[dict[str, float]]) -> list[float]:
    """Print the median of each side's runs (`_summary`s); each side's median rate."""
    rates = []
    for runs in sides:
        name = runs[0]["name"]
        med = {k: statistics.median(r[k] for r in runs) for k in ("rate", "p50", "p99", "max")}
        print(f"{name:>12}: {med['rate']:9,.0f} orders/s  p50 {med['p50']:6.2f} ms  "
              f"p99 {med['p99']:6.2f} ms  max {med['max']:7.2f} ms  (median of runs)")
        rates.append(med["rate"])
    return rates


def _hardware() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
            if line.startswith("Model name"))
    except StopIteration:
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"Persisted placement, {args.orders} orders per run, {args.runs} run(s); {_hardware()}")
    service_runs, baseline_runs = [], []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bitchange-bench-") as tmp:
            baseline_runs.append(_summary("raw sqlite3", run_baseline(args.orders, Path(tmp))))
            service_runs.append(_summary("service", run_service(args.orders, Path(tmp))))
        print(f"  run {run + 1}: service {service_runs[-1]['rate']:,.0f} orders/s, "
              f"baseline {baseline_runs[-1]['rate']:,.0f} orders/s")
    service_rate, baseline_rate = _print_medians(service_runs, baseline_runs)
    ratio = baseline_rate / service_rate
    print(f"service is {ratio:.2f}x slower than the raw sqlite3 baseline")


if __name__ == "__main__":
    main()
