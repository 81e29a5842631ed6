"""API stream fan-out: with N clients subscribed to `btcusdt@trade` on one backend process, the
time from a trade's commit to the last client's receipt of its `trade` event.

    .venv/bin/python benchmarks/stream_fanout_bench.py                        # 500 clients
    .venv/bin/python benchmarks/stream_fanout_bench.py --clients 20 --trades 5  # CI smoke

The server is bitchange.web's routes with the stream watcher (`tests/api/stream_server.py`)
under Granian, one worker, on a SQLite file. The clients (real `websockets` connections) live
in a few child processes so that their own parsing does not queue behind one event loop; each
stamps its receipt with the system-wide monotonic clock, as does this process right after
`trading.service.place_order` returns (the commit). Trades are placed one at a time, the next
once every client has the previous one. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from placement_bench import SYMBOL, _hardware, _prepare

CLIENT_PROCESSES = 4


def _clients(url: str, count: int, trades: int, ready, reports) -> None:  # type: ignore[no-untyped-def]
    """One child process: `count` sockets; per trade id, report when all have it."""
    from websockets.asyncio.client import connect

    async def run() -> None:
        sockets = [await connect(url + "/ws/btcusdt@trade", max_queue=None)
                   for _ in range(count)]
        ready.put(count)
        got: dict[int, list[float]] = {}

        async def listen(ws) -> None:  # type: ignore[no-untyped-def]
            for _ in range(trades):
                text = await ws.recv()
                stamp = time.monotonic()
                trade_id = json.loads(text)["t"]
                stamps = got.setdefault(trade_id, [])
                stamps.append(stamp)
                if len(stamps) == count:
                    reports.put((trade_id, max(stamps)))

        await asyncio.gather(*(listen(ws) for ws in sockets))
        for ws in sockets:
            await ws.close()

    asyncio.run(run())


def run(clients: int, trades: int, tmp: Path) -> list[float]:
    from tests.api.stream_server import serving

    ids = _prepare(tmp / "bench.db")
    os.environ["DATA_DIR"] = str(tmp)
    from bitchange.trading import service
    from bitchange.trading.service import OrderRequest

    latencies = []
    with serving({"STREAM_CONNECTIONS_PER_5M": str(clients + 10),
                  "STREAM_MAX_CONNECTIONS_PER_IP": str(clients + 10)}) as url:
        ready, reports = mp.Queue(), mp.Queue()
        shares = [clients // CLIENT_PROCESSES + (i < clients % CLIENT_PROCESSES)
                  for i in range(CLIENT_PROCESSES)]
        children = [mp.Process(target=_clients, args=(url, n, trades, ready, reports))
                    for n in shares if n]
        for child in children:
            child.start()
        for _ in children:
            ready.get(timeout=300)
        price, quantity = 65_000 * 10**6, 10**6
        for _ in range(trades):
            service.place_order(ids["seller"], SYMBOL, OrderRequest(
                side="SELL", kind="limit", price=price, quantity=quantity))
            service.place_order(ids["buyer"], SYMBOL, OrderRequest(
                side="BUY", kind="limit", price=price, quantity=quantity))
            committed = time.monotonic()
            last = max(reports.get(timeout=60)[1] for _ in children)
            latencies.append((last - committed) * 1000)
        for child in children:
            child.join(timeout=60)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--trades", type=int, default=200)
    args = parser.parse_args()
    print(f"Stream fan-out, {args.clients} clients on btcusdt@trade, {args.trades} trades; "
          f"{_hardware()}")
    with tempfile.TemporaryDirectory(prefix="bitchange-bench-") as tmp:
        latencies = run(args.clients, args.trades, Path(tmp))
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"  commit -> last client: p50 {statistics.median(ordered):.1f} ms, "
          f"p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms")


if __name__ == "__main__":
    main()
