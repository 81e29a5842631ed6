"""Matching engine benchmark: events/s and per-event latency, vs a minimal book.

    .venv/bin/python benchmarks/engine_bench.py                 # 1,000,000 events
    .venv/bin/python benchmarks/engine_bench.py --events 20000  # CI smoke

Stream (seeded): ~70% limit orders a few ticks around a drifting mid, ~25% cancels
of orders still resting, ~5% marketable orders (market by quantity, market buy by
quote budget, limit orders priced through the mid). The stream is generated first
(untimed) by replaying it into the reference book so cancels target resting orders;
both books then consume the identical command list.

The reference is a minimal price-time book (dict of levels with FIFO deques,
bisect-sorted price lists, lazy cancel; no validation, fees, STP, events or
results): the cost of "just matching" in pure Python. Both run in the same process
under the same GC policy. Prints figures only, asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from array import array
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bitchange.engine import MarketRules, OrderBook, Side, gc_policy

TICK = 10_000  # 0.01 USDT (6 decimals)
LOT = 10_000  # 0.0001 BTC (8 decimals)
RULES = MarketRules(
    tick_size=TICK,
    lot_size=LOT,
    min_notional=5_000_000,
    base_scale=10**8,
    maker_fee_bps=10,
    taker_fee_bps=20,
)
MID0 = 65_000 * 1_000_000  # 65,000.00 USDT
CHECKPOINT_EVERY = 100_000  # events between gc_policy.checkpoint() calls (policy mode)

LIMIT, CANCEL, MARKET_QTY, MARKET_QUOTE = 0, 1, 2, 3


# --- reference book ---------------------------------------------------------------


class RefBook:
    """Minimal price-time book. Orders are ``[order_id, remaining]`` lists."""

    def __init__(self) -> None:
        self.levels: dict[int, list] = {}  # signed key -> [total, deque]
        self.bid_keys: list[int] = []  # +price ascending, best last
        self.ask_keys: list[int] = []  # -price ascending, best last
        self.orders: dict[int, tuple[list[int], int]] = {}  # id -> (order, key)

    def limit(self, order_id: int, is_buy: bool, price: int, qty: int) -> None:
        key = price if is_buy else -price
        left = self._take(is_buy, -key, qty)
        if left:
            level = self.levels.get(key)
            if level is None:
                level = self.levels[key] = [0, deque()]
                insort(self.bid_keys if is_buy else self.ask_keys, key)
            order = [order_id, left]
            level[0] += left
            level[1].append(order)
            self.orders[order_id] = (order, key)

    def market(self, is_buy: bool, qty: int) -> None:
        self._take(is_buy, -(1 << 256), qty)

    def market_quote(self, budget: int) -> None:
        # Same lot-by-lot budget walk as the engine, kept minimal.
        while self.ask_keys and budget > 0:
            key = self.ask_keys[-1]
            cap = budget * 10**8 // -key // LOT * LOT
            if not cap:
                return
            left = self._take(True, key, cap)
            budget -= -key * (cap - left) // 10**8

    def cancel(self, order_id: int) -> None:
        entry = self.orders.pop(order_id, None)
        if entry is None:
            return
        order, key = entry
        level = self.levels[key]
        level[0] -= order[1]
        order[1] = 0  # tombstone, skipped by matching
        if not level[0]:
            del self.levels[key]
            keys = self.bid_keys if key > 0 else self.ask_keys
            del keys[bisect_left(keys, key)]

    def _take(self, is_buy: bool, threshold: int, qty: int) -> int:
        keys = self.ask_keys if is_buy else self.bid_keys
        while qty and keys and keys[-1] >= threshold:
            key = keys[-1]
            level = self.levels[key]
            fifo = level[1]
            while qty and level[0]:
                order = fifo[0]
                if not order[1]:
                    fifo.popleft()
                    continue
                fill = min(order[1], qty)
                order[1] -= fill
                level[0] -= fill
                qty -= fill
                if not order[1]:
                    fifo.popleft()
                    del self.orders[order[0]]
            if not level[0]:
                del self.levels[key]
                keys.pop()
        return qty


# --- stream -----------------------------------------------------------------------


def make_stream(n: int, seed: int) -> list[tuple]:
    """Commands as tuples: (LIMIT, id, owner, is_buy, price, qty), (CANCEL, id),
    (MARKET_QTY, id, owner, is_buy, qty), (MARKET_QUOTE, id, owner, budget)."""
    rng = random.Random(seed)
    ref = RefBook()
    cmds: list[tuple] = []
    live: list[int] = []  # candidate ids for cancels (may be stale, checked lazily)
    mid = MID0
    next_id = 1
    for _ in range(n):
        mid += rng.choice((-TICK, 0, 0, TICK))  # slow random walk
        r = rng.random()
        owner = rng.randrange(1, 100_000)
        if r < 0.25 and live:
            while live:  # pick a random resting order (swap-remove stale ones)
                i = rng.randrange(len(live))
                live[i], live[-1] = live[-1], live[i]
                order_id = live.pop()
                if order_id in ref.orders:
                    break
            else:
                continue
            cmds.append((CANCEL, order_id))
            ref.cancel(order_id)
            continue
        order_id = next_id
        next_id += 1
        is_buy = rng.random() < 0.5
        qty = rng.randint(1, 100) * LOT
        if r < 0.95 or not ref.orders:
            # Passive: 1..~60 ticks behind the mid and never through the other side.
            offset = int(rng.expovariate(1 / 12)) + 1
            if is_buy:
                price = mid - offset * TICK
                if ref.ask_keys:
                    price = min(price, -ref.ask_keys[-1] - TICK)
            else:
                price = mid + offset * TICK
                if ref.bid_keys:
                    price = max(price, ref.bid_keys[-1] + TICK)
            if price * qty < RULES.min_notional * RULES.base_scale:
                qty = LOT * 100
            cmds.append((LIMIT, order_id, owner, is_buy, price, qty))
            ref.limit(order_id, is_buy, price, qty)
            live.append(order_id)
        elif r < 0.97:
            cmds.append((MARKET_QTY, order_id, owner, is_buy, qty))
            ref.market(is_buy, qty)
        elif r < 0.98:
            budget = rng.randint(100, 5_000) * 1_000_000
            cmds.append((MARKET_QUOTE, order_id, owner, budget))
            ref.market_quote(budget)
        else:
            through = rng.randint(1, 5) * TICK
            price = mid + through if is_buy else mid - through
            cmds.append((LIMIT, order_id, owner, is_buy, price, qty))
            ref.limit(order_id, is_buy, price, qty)
            live.append(order_id)
    return cmds


# --- runners ----------------------------------------------------------------------


def engine_runner(cmds: list[tuple]) -> tuple[Callable[[int, int], None], Callable[[], int]]:
    """Returns (run(lo, hi), resting_count) over engine-typed commands."""
    book = OrderBook(RULES)
    buy, sell = Side.BUY, Side.SELL
    typed = [
        (c[0], c[1], c[2], buy if c[3] else sell, c[4], c[5])
        if c[0] == LIMIT
        else (c[0], c[1], c[2], buy if c[3] else sell, c[4])
        if c[0] == MARKET_QTY
        else c
        for c in cmds
    ]
    limit, market, cancel = book.submit_limit, book.submit_market, book.cancel

    def run(lo: int, hi: int) -> None:
        for c in typed[lo:hi]:
            kind = c[0]
            if kind == LIMIT:
                limit(c[1], c[2], c[3], c[4], c[5])
            elif kind == CANCEL:
                cancel(c[1])
            elif kind == MARKET_QTY:
                market(c[1], c[2], c[3], c[4])
            else:
                market(c[1], c[2], buy, None, c[3])

    return run, lambda: len(book)


def ref_runner(cmds: list[tuple]) -> tuple[Callable[[int, int], None], Callable[[], int]]:
    book = RefBook()
    limit, market, quote, cancel = book.limit, book.market, book.market_quote, book.cancel

    def run(lo: int, hi: int) -> None:
        for c in cmds[lo:hi]:
            kind = c[0]
            if kind == LIMIT:
                limit(c[1], c[3], c[4], c[5])
            elif kind == CANCEL:
                cancel(c[1])
            elif kind == MARKET_QTY:
                market(c[3], c[4])
            else:
                quote(c[3])

    return run, lambda: len(book.orders)


def set_gc(mode: str) -> None:
    gc_policy.restore_defaults()
    gc.collect()
    if mode == "policy":
        gc_policy.apply()


def throughput(factory: Callable, cmds: list[tuple], mode: str) -> tuple[float, float, int]:
    """(events/s wall, events/s CPU, resting at end); checkpoints included in policy mode.

    CPU time is printed too because the machine may be shared: it is less
    disturbed by other processes than wall time."""
    run, resting = factory(cmds)
    set_gc(mode)
    n = len(cmds)
    step = CHECKPOINT_EVERY if mode == "policy" else n
    w0, c0 = time.perf_counter(), time.process_time()
    for lo in range(0, n, step):
        run(lo, lo + step)
        if mode == "policy":
            gc_policy.checkpoint()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    count = resting()
    gc_policy.restore_defaults()
    return n / wall, n / cpu, count


def latencies(
    factory: Callable, cmds: list[tuple], mode: str, clock: Callable[[], int]
) -> tuple[array, list[int]]:
    """Per-event latency (ns) by ``clock`` and the durations of the checkpoint calls.

    With ``time.thread_time_ns`` the figures are CPU time of this thread only: they
    exclude preemption by other processes, so they separate the engine's own
    pauses (GC, resizes) from a busy machine's scheduling noise."""
    run, _ = factory(cmds)
    set_gc(mode)
    out = array("q", bytes(8 * len(cmds)))
    pauses: list[int] = []
    for i in range(len(cmds)):
        t0 = clock()
        run(i, i + 1)
        out[i] = clock() - t0
        if mode == "policy" and i % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1:
            t0 = clock()
            gc_policy.checkpoint()
            pauses.append(clock() - t0)
    gc_policy.restore_defaults()
    return out, pauses


def clock_overhead(clock: Callable[[], int]) -> int:
    """Cost of the harness around one event (clock pair + run(i, i+1) with no work)."""
    empty: list[tuple] = []
    best = 1 << 62
    for _ in range(200_000):
        t0 = clock()
        for _c in empty[0:1]:
            pass
        best = min(best, clock() - t0)
    return best


def pct(sorted_ns: list[int], p: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * p))] / 1000


def hardware() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")),
            platform.processor(),
        )
    except OSError:
        model = platform.processor()
    return f"{model}, Python {platform.python_version()} ({platform.python_implementation()})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="throughput runs (median)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--gc",
        choices=("policy", "default", "both"),
        default="both",
        help="GC policy for the comparison (both = policy, then default GC)",
    )
    parser.add_argument(
        "--app-heap",
        type=int,
        default=0,
        help="long-lived tracked objects standing in for the rest of the "
        "service (web framework, ORM...), e.g. 1000000",
    )
    args = parser.parse_args()

    print(
        f"hardware: {hardware()}, {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    t0 = time.perf_counter()
    cmds = make_stream(args.events, args.seed)
    kinds = [c[0] for c in cmds]
    print(
        f"stream: {len(cmds):,} events (limit {kinds.count(LIMIT):,}, cancel "
        f"{kinds.count(CANCEL):,}, market {kinds.count(MARKET_QTY):,}, market-by-quote "
        f"{kinds.count(MARKET_QUOTE):,}), generated in {time.perf_counter() - t0:.1f}s"
    )
    app_heap = [[i] for i in range(args.app_heap)]  # noqa: F841 - kept alive on purpose
    if args.app_heap:
        print(f"app heap stand-in: {args.app_heap:,} tracked objects")

    modes = ("policy", "default") if args.gc == "both" else (args.gc,)
    for mode in modes:
        print(f"\n[gc={mode}] throughput, median of {args.runs} runs (wall / CPU time)")
        medians = {}
        for name, factory in (("engine", engine_runner), ("reference", ref_runner)):
            runs = [throughput(factory, cmds, mode) for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            medians[name] = (wall, cpu)
            print(
                f"  {name:10s}: {wall:10,.0f} / {cpu:10,.0f} events/s   (wall runs: "
                f"{', '.join(f'{r[0]:,.0f}' for r in runs)}; resting at end {runs[0][2]:,})"
            )
        (ew, ec), (rw, rc) = medians["engine"], medians["reference"]
        print(f"  reference is {rw / ew:.2f}x (wall) / {rc / ec:.2f}x (CPU) the engine's speed")

        for label, clock in (("wall", time.perf_counter_ns), ("CPU", time.thread_time_ns)):
            lat, pauses = latencies(engine_runner, cmds, mode, clock)
            s = sorted(lat)
            print(
                f"  engine latency per event, {label} clock (us, incl. "
                f"~{clock_overhead(clock) / 1000:.2f} us harness): p50 {pct(s, 0.5):.2f}  "
                f"p99 {pct(s, 0.99):.2f}  p99.9 {pct(s, 0.999):.2f}  max {s[-1] / 1000:.1f}"
                f"  (>1 ms: {sum(1 for x in lat if x > 1_000_000)}, "
                f">5 ms: {sum(1 for x in lat if x > 5_000_000)})"
            )
            if pauses:
                print(
                    f"    gc_policy.checkpoint() every {CHECKPOINT_EVERY:,} events: "
                    f"{len(pauses)} calls, median {statistics.median(pauses) / 1000:.0f} us, "
                    f"max {max(pauses) / 1000:.0f} us"
                )
        del lat


if __name__ == "__main__":
    main()
