"""Several writer processes on one market: what a process pays to bring its stale book up to
date before it places an order, by catching up on the changed orders against reloading every
open order (the baseline), in the same run.

    .venv/bin/python benchmarks/catch_up_bench.py                          # 5,000 resting, 3 runs
    .venv/bin/python benchmarks/catch_up_bench.py --resting 500 --orders 100 --runs 1   # smoke

Two "processes" take turns, as Reflex workers do when orders land on different workers: each
holds its own copy of the book, and every order placed through one leaves the other a
`seq` behind. The market holds `--resting` orders; each placed order crosses one of them and
rests a new one. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from placement_bench import SYMBOL, _hardware, _percentile, _prepare


def run(resting: int, orders: int, workdir: Path, *, reload: bool) -> list[float]:
    ids = _prepare(workdir / f"{'reload' if reload else 'catch-up'}.db")
    from bitchange import db
    from bitchange.trading import service
    from bitchange.trading.service import OrderRequest

    lot, low = 10**5, 50_000 * 10**6  # 0.001 BTC at 50,000+ USDT: above the minimum total
    for i in range(resting):  # asks on 100 levels above the bids to come
        service.place_order(ids["seller"], SYMBOL, OrderRequest(
            side="SELL", kind="limit", price=low + (i % 100 + 1) * 10**6, quantity=lot))
    live = service._live(SYMBOL)
    books = [(live.book, live.seq), (None, -1)]  # process A's copy; B has none yet
    latencies = []
    for i in range(orders):
        mine = i % 2
        live.book, live.seq = books[mine]
        if reload:
            live.book = None  # the baseline: a stale process reloads every open order
        user, request = ((ids["buyer"], OrderRequest(side="BUY", kind="limit",
                                                     price=low + 100 * 10**6, quantity=lot))
                         if i % 4 < 2 else
                         (ids["seller"], OrderRequest(side="SELL", kind="limit",
                                                      price=low + 101 * 10**6, quantity=lot)))
        start = time.perf_counter()
        service.place_order(user, SYMBOL, request)
        latencies.append(time.perf_counter() - start)
        books[mine] = (live.book, live.seq)
    service.forget_books()
    db.dispose()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resting", type=int, default=5_000)
    parser.add_argument("--orders", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"Stale books, {args.resting} resting orders, {args.orders} orders alternating "
          f"between two processes' books, {args.runs} run(s); {_hardware()}")
    results: dict[str, list[dict[str, float]]] = {"catch up": [], "reload": []}
    for _ in range(args.runs):
        for name in results:
            with tempfile.TemporaryDirectory(prefix="bitchange-bench-") as tmp:
                lat = run(args.resting, args.orders, Path(tmp), reload=name == "reload")
            results[name].append({"rate": len(lat) / sum(lat), "p50": _percentile(lat, .5),
                                  "p99": _percentile(lat, .99)})
    for name, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("rate", "p50", "p99")}
        print(f"{name:>9}: {med['rate']:8,.0f} orders/s  p50 {med['p50'] * 1e3:6.2f} ms  "
              f"p99 {med['p99'] * 1e3:6.2f} ms  (median of runs)")
    ratio = (statistics.median(r["rate"] for r in results["catch up"])
             / statistics.median(r["rate"] for r in results["reload"]))
    print(f"catching up is {ratio:.1f}x faster than reloading the book")


if __name__ == "__main__":
    main()
