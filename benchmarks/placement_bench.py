"""Persisted order placement: orders/s and latency through the full path (validate, hold,
match, settle, ledger, candles, commit) on SQLite with durable commits (WAL, synchronous=FULL),
against raw `sqlite3` executing an equivalent transaction in the same run.

    .venv/bin/python benchmarks/placement_bench.py                # 5,000 orders, 3 runs
    .venv/bin/python benchmarks/placement_bench.py --orders 200 --runs 1   # CI smoke

The stream alternates a resting limit sell and a limit buy that crosses it, so half the orders
rest and half trade (one fill each). The baseline performs the statements such a pair needs —
order rows, balance updates for hold/settle/release, ledger transactions and entries, the trade
row, candle upserts, the market sequence bump — as prepared `sqlite3` statements, one durable
commit per order, like the service. Prints figures only; asserts nothing.
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


def run_service(orders: int, workdir: Path) -> list[float]:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'service.db'}"
    from bitchange import db, ledger
    from bitchange.accounts.users import create_user
    from bitchange.config import reload_settings
    from bitchange.setup import prepare_database
    from bitchange.trading import service
    from bitchange.trading.service import OrderRequest

    reload_settings()
    db.dispose()
    service.forget_books()
    prepare_database()
    with db.write() as conn:
        seller = create_user(conn, "seller@bench.local", "benchmark password", verified=True)
        buyer = create_user(conn, "buyer@bench.local", "benchmark password", verified=True)
        ledger.credit_deposit(conn, ledger.account_for_user(conn, seller), "BTC", 10**15)
        ledger.credit_deposit(conn, ledger.account_for_user(conn, buyer), "USDT", 10**17)
    sell = OrderRequest(side="SELL", kind="limit", price=60_000 * 10**6, quantity=10**6)
    buy = OrderRequest(side="BUY", kind="limit", price=60_001 * 10**6, quantity=10**6)
    latencies = []
    for i in range(orders):
        user, request = (seller, sell) if i % 2 == 0 else (buyer, buy)
        start = time.perf_counter()
        service.place_order(user, SYMBOL, request)
        latencies.append(time.perf_counter() - start)
    with db.read() as conn:
        assert ledger.reconcile(conn).ok
    db.dispose()
    return latencies


BASELINE_SCHEMA = """
CREATE TABLE balances (account INTEGER, asset TEXT, available INTEGER, locked INTEGER,
                       PRIMARY KEY (account, asset));
CREATE TABLE orders (id INTEGER PRIMARY KEY, symbol TEXT, user_id INTEGER, side TEXT,
                     price INTEGER, quantity INTEGER, filled INTEGER, remaining INTEGER,
                     held INTEGER, status TEXT, created_at TEXT);
CREATE TABLE ledger_tx (id INTEGER PRIMARY KEY, kind TEXT, ref TEXT, created_at TEXT);
CREATE TABLE ledger_entries (id INTEGER PRIMARY KEY, tx INTEGER, account INTEGER, asset TEXT,
                             bucket TEXT, amount INTEGER);
CREATE TABLE trades (id INTEGER PRIMARY KEY, maker INTEGER, taker INTEGER, price INTEGER,
                     quantity INTEGER, notional INTEGER, created_at TEXT);
CREATE TABLE candles (symbol TEXT, interval TEXT, open_time INTEGER, open INTEGER,
                      high INTEGER, low INTEGER, close INTEGER, volume INTEGER,
                      PRIMARY KEY (symbol, interval, open_time));
CREATE TABLE seq (symbol TEXT PRIMARY KEY, seq INTEGER);
"""


def run_baseline(orders: int, workdir: Path) -> list[float]:
    conn = sqlite3.connect(workdir / "baseline.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(BASELINE_SCHEMA)
    conn.executemany("INSERT INTO balances VALUES (?, ?, ?, ?)", [
        (a, asset, 10**17, 0) for a in (1, 2, 3) for asset in ("BTC", "USDT")])
    conn.execute("INSERT INTO seq VALUES (?, 0)", (SYMBOL,))
    bucket_update = ("UPDATE balances SET {b} = {b} + ? WHERE account = ? AND asset = ? "
                     "AND {b} + ? >= 0")
    avail = bucket_update.format(b="available")
    locked = bucket_update.format(b="locked")

    def post(entries: list[tuple[int, str, str, int]], now: str) -> None:
        for account, asset, bucket, amount in entries:
            conn.execute(avail if bucket == "available" else locked,
                         (amount, account, asset, amount))
        tx = conn.execute("INSERT INTO ledger_tx (kind, ref, created_at) VALUES (?, ?, ?)",
                          ("op", "1", now)).lastrowid
        conn.executemany("INSERT INTO ledger_entries (tx, account, asset, bucket, amount) "
                         "VALUES (?, ?, ?, ?, ?)", [(tx, *e) for e in entries])

    latencies = []
    resting = None
    for i in range(orders):
        start = time.perf_counter()
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SELECT seq FROM seq WHERE symbol = ?", (SYMBOL,)).fetchone()
        if i % 2 == 0:  # resting sell: order row, hold
            resting = conn.execute(
                "INSERT INTO orders (symbol, user_id, side, price, quantity, filled, remaining, "
                "held, status, created_at) VALUES (?, 1, 'SELL', ?, ?, 0, 0, ?, 'open', ?)",
                (SYMBOL, 60_000, 10**6, 10**6, now)).lastrowid
            post([(1, "BTC", "available", -10**6), (1, "BTC", "locked", 10**6)], now)
            conn.execute("UPDATE orders SET remaining = ?, status = 'open' WHERE id = ?",
                         (10**6, resting))
        else:  # crossing buy: order row, hold, two settlements, trade, maker, release, candles
            taker = conn.execute(
                "INSERT INTO orders (symbol, user_id, side, price, quantity, filled, remaining, "
                "held, status, created_at) VALUES (?, 2, 'BUY', ?, ?, 0, 0, ?, 'open', ?)",
                (SYMBOL, 60_001, 10**6, 600_010_000, now)).lastrowid
            post([(2, "USDT", "available", -600_010_000), (2, "USDT", "locked", 600_010_000)],
                 now)
            post([(1, "BTC", "locked", -10**6), (2, "BTC", "available", 10**6 - 200),
                  (3, "BTC", "available", 200)], now)
            post([(2, "USDT", "locked", -600_000_000), (1, "USDT", "available", 599_940_000),
                  (3, "USDT", "available", 60_000)], now)
            conn.execute("INSERT INTO trades (maker, taker, price, quantity, notional, "
                         "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (resting, taker, 60_000, 10**6, 600_000_000, now))
            conn.execute("UPDATE orders SET filled = filled + ?, remaining = 0, held = held - ?, "
                         "status = 'filled' WHERE id = ?", (10**6, 10**6, resting))
            post([(2, "USDT", "locked", -10_000), (2, "USDT", "available", 10_000)], now)
            conn.executemany(
                "INSERT INTO candles VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "high = max(high, excluded.high), low = min(low, excluded.low), "
                "close = excluded.close, volume = volume + excluded.volume",
                [(SYMBOL, iv, int(time.time()) // s * s, 60_000, 60_000, 60_000, 60_000, 10**6)
                 for iv, s in (("1m", 60), ("5m", 300), ("15m", 900), ("1h", 3600),
                               ("4h", 14400), ("1d", 86400))])
            conn.execute("UPDATE orders SET filled = ?, status = 'filled', held = 0 WHERE id = ?",
                         (10**6, taker))
        conn.execute("UPDATE seq SET seq = seq + 1 WHERE symbol = ?", (SYMBOL,))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - start)
    conn.close()
    return latencies


def _summary(name: str, latencies: list[float]) -> dict[str, float]:
    return {
        "name": name,
        "rate": len(latencies) / sum(latencies),
        "p50": _percentile(latencies, 0.50) * 1e3,
        "p99": _percentile(latencies, 0.99) * 1e3,
        "max": max(latencies) * 1e3,
    }


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
    for runs in (service_runs, baseline_runs):
        name = runs[0]["name"]
        med = {k: statistics.median(r[k] for r in runs) for k in ("rate", "p50", "p99", "max")}
        print(f"{name:>12}: {med['rate']:9,.0f} orders/s  p50 {med['p50']:6.2f} ms  "
              f"p99 {med['p99']:6.2f} ms  max {med['max']:7.2f} ms  (median of runs)")
    ratio = (statistics.median(r["rate"] for r in baseline_runs)
             / statistics.median(r["rate"] for r in service_runs))
    print(f"service is {ratio:.2f}x slower than the raw sqlite3 baseline")


if __name__ == "__main__":
    main()
