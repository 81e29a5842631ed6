"""Load: many screens watching BTC-USDT across two app nodes while orders are placed; the time
from each placement's commit to each screen's update (p50/p99/max), against a small baseline
crowd in the same run.

    .venv/bin/python benchmarks/load_bench.py                           # 10 (baseline), 200, 1000
    .venv/bin/python benchmarks/load_bench.py --screens 20 --orders 5   # CI smoke

Two nodes run as phase 2 runs them (`serve --backend-only`, tests/nodes.py) on a fresh
PostgreSQL database and a Redis database of their own. A screen is a socket-level client
speaking Reflex's protocol (python-socketio over the `/_event` WebSocket: the page's
`hydrate_and_load`, then the events the backend sends back, as the browser's state.js does) on
/trade/BTC-USDT; half the screens connect to each node. This process places resting limit
orders through the trading service, one at a time: the clock starts when `place_order`
returns (the commit is done) and stops, per screen, at the first pushed update of the trade
state's book after it. A screen that gets none within --timeout counts as missed. Prints
figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import redis  # noqa: E402
import socketio  # noqa: E402
from placement_bench import _hardware  # noqa: E402
from reflex.state import State  # noqa: E402

from bitchange import db, ledger  # noqa: E402
from bitchange.accounts.users import create_user  # noqa: E402
from bitchange.config import reload_settings  # noqa: E402
from bitchange.state.trade import TradeState  # noqa: E402
from bitchange.trading import service  # noqa: E402
from bitchange.trading.service import OrderRequest  # noqa: E402
from tests.nodes import Node, node_env, running_nodes  # noqa: E402
from tests.postgres import empty_database  # noqa: E402

SYMBOL = "BTC-USDT"
PATH = f"/trade/{SYMBOL}"
ROUTER = {"pathname": PATH, "asPath": PATH, "query": {"symbol": SYMBOL}}
REDIS_URL = os.environ.get("BITCHANGE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
CONNECT_AT_ONCE = 25


class Screen:
    """One tab on the trading page, without a browser."""

    def __init__(self, node: Node, root_state: str, trade_state: str) -> None:
        self.node = node
        self.root_state = root_state
        self.trade_state = trade_state
        self.token = str(uuid.uuid4())
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("event", self._on_update, namespace="/_event")
        self.book_updates: list[float] = []
        self.loaded = asyncio.Event()
        self.hydrated = asyncio.Event()  # the page's on_load handlers are all done

    async def open(self) -> None:
        await self.client.connect(f"{self.node.url}?token={self.token}",
                                  socketio_path="/_event", namespaces=["/_event"],
                                  transports=["websocket"], wait_timeout=60)
        await self._send(f"{self.root_state}.hydrate_and_load", {"vars": {}})

    async def _send(self, name: str, payload: dict) -> None:  # type: ignore[type-arg]
        await self.client.emit("event", {"name": name, "payload": payload,
                                         "router_data": ROUTER}, namespace="/_event")

    async def _on_update(self, update: dict) -> None:  # type: ignore[type-arg]
        arrived = time.monotonic()
        delta = update.get("delta") or {}
        changes = delta.get(self.trade_state, {})
        if any(key.startswith(("bids", "asks")) for key in changes):
            self.book_updates.append(arrived)
            self.loaded.set()
        if delta.get(self.root_state, {}).get("is_hydrated_rx_state_") is True:
            self.hydrated.set()
        for event in update.get("events") or []:
            if not event["name"].startswith("_"):  # the browser's own (scripts, redirects)
                await self._send(event["name"], event.get("payload") or {})

    def first_update_after(self, moment: float) -> float | None:
        return next((t for t in self.book_updates if t >= moment), None)

    async def close(self) -> None:
        await self.client.disconnect()


async def _open_all(screens: list[Screen], timeout: float) -> None:
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(screen: Screen) -> None:
        async with gate:
            await screen.open()
            await asyncio.wait_for(screen.loaded.wait(), timeout)
            await asyncio.wait_for(screen.hydrated.wait(), timeout)

    await asyncio.gather(*(one(s) for s in screens))


async def _measure(nodes: list[Node], count: int, orders: int, timeout: float,
                   trader: int, first_price: int) -> dict[str, float]:
    screens = [Screen(nodes[i % len(nodes)], State.get_full_name(), TradeState.get_full_name())
               for i in range(count)]
    started = time.monotonic()
    await _open_all(screens, timeout * 4)
    opened = time.monotonic() - started
    latencies: list[float] = []
    missed = 0
    try:
        for i in range(orders):
            price = (first_price - i) * 10**6  # a new level each time: every book changes
            request = OrderRequest("BUY", "limit", price, 10**5)
            await asyncio.to_thread(service.place_order, trader, SYMBOL, request)
            committed = time.monotonic()
            deadline = committed + timeout
            while time.monotonic() < deadline and any(
                    s.first_update_after(committed) is None for s in screens):
                await asyncio.sleep(0.01)  # the benchmark's own clock, polling its screens
            for screen in screens:
                seen = screen.first_update_after(committed)
                if seen is None:
                    missed += 1
                else:
                    latencies.append(seen - committed)
    finally:
        await asyncio.gather(*(s.close() for s in screens), return_exceptions=True)
    latencies.sort()
    return {"screens": count, "connect_s": opened, "p50": _percentile(latencies, 0.5),
            "p99": _percentile(latencies, 0.99),
            "max": latencies[-1] if latencies else float("nan"),
            "mean": statistics.fmean(latencies) if latencies else float("nan"),
            "updates": len(latencies), "missed": missed}


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _trader() -> int:
    with db.write() as conn:
        user = create_user(conn, f"bench-{uuid.uuid4().hex[:8]}@example.com",
                           "bench-password-123456", verified=True)
        ledger.credit_deposit(conn, ledger.account_for_user(conn, user), "USDT",
                              10**9 * 10**6, ref_type="bench", memo="load bench")
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--baseline", type=int, default=10, help="screens in the baseline crowd")
    parser.add_argument("--orders", type=int, default=30, help="placements per crowd")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds a screen may take before its update counts as missed")
    parser.add_argument("--workers", default="1", help="Reflex workers per node")
    args = parser.parse_args()

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    with empty_database() as url, tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = url  # this process places the orders there
        reload_settings()
        db.dispose()
        env = node_env(url, REDIS_URL, Path(tmp) / "data", GRANIAN_WORKERS=args.workers,
                       SCHEDULER_ENABLED="false")
        with running_nodes(["node-a", "node-b"], env, Path(tmp)) as nodes:
            trader = _trader()
            print(f"{_hardware()}; 2 nodes x {args.workers} worker(s), PostgreSQL + Redis, "
                  f"{args.orders} placements per crowd, load average "
                  f"{os.getloadavg()[0]:.1f}")
            results = []
            first_price = 50_000
            for count in [args.baseline, *args.screens]:
                results.append(asyncio.run(_measure(nodes, count, args.orders, args.timeout,
                                                    trader, first_price)))
                first_price -= args.orders
            base = results[0]
            print(f"{'screens':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'mean ms':>8} "
                  f"{'missed':>7} {'p99 / baseline':>15} {'connect s':>10}")
            for r in results:
                print(f"{r['screens']:>8} {r['p50'] * 1000:>8.0f} {r['p99'] * 1000:>8.0f} "
                      f"{r['max'] * 1000:>8.0f} {r['mean'] * 1000:>8.0f} {r['missed']:>7} "
                      f"{r['p99'] / base['p99']:>14.2f}x {r['connect_s']:>10.1f}")
            for r in results:
                if r["screens"] == 200:
                    print("target p99 < 1000 ms with 200 screens: "
                          + ("met" if r["p99"] < 1 and not r["missed"] else "NOT met"))
    client.flushdb()


if __name__ == "__main__":
    main()
