"""Signed `POST /api/v3/order` over real HTTP: orders/s and latency from one keep-alive client
against one backend process (bitchange.web's routes under Granian, SQLite with durable commits),
and the ratio against `trading.service.place_order` called in-process in the same run.

    .venv/bin/python benchmarks/api_bench.py                         # 3,000 orders, 3 runs
    .venv/bin/python benchmarks/api_bench.py --orders 200 --runs 1   # CI smoke
    .venv/bin/python benchmarks/api_bench.py --connections 4         # four connections at once

Both sides place the same stream as benchmarks/placement_bench.py (a resting limit sell, then a
limit buy that crosses it), each on a fresh migrated database. The HTTP client signs every
request as Binance documents it (HMAC-SHA256 of the query string, `X-MBX-APIKEY`, `timestamp`)
on one `http.client` keep-alive connection and waits for each answer (the default
`newOrderRespType`, FULL, with the fills) before sending the next; latency is from the first
byte sent to the last byte read. The rate limits are raised out of the way (they are still
counted on every request). Also printed: CPU time per order of the server processes (from
/proc) and of the in-process loop, which a loaded machine disturbs less than wall time. Prints
figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import SplitResult, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from placement_bench import SYMBOL, _hardware, _prepare, _print_medians, _summary, run_service

KEYS = {"seller": ("S" * 64, "s" * 64), "buyer": ("B" * 64, "b" * 64)}
UNLIMITED = {"API_WEIGHT_PER_MINUTE": "100000000", "API_ORDERS_PER_10S": "100000000",
             "API_ORDERS_PER_DAY": "100000000", "RATE_LIMIT_HTTP_IP": "100000000/minute",
             "BACKEND_CPU_PINNING": "true"}  # as production runs it (bitchange/ops/cpu_pinning.py)


def _seed_keys(ids: dict[str, int]) -> None:
    from bitchange import db
    from bitchange.accounts import api_keys

    with db.write() as conn:
        for who, (key, secret) in KEYS.items():
            api_keys.seed_hmac_key(conn, ids[who], label="bench", api_key=key, secret=secret)


def _server_cpu() -> float:
    """CPU seconds used so far by this process's Granian descendants (Linux /proc)."""
    parents, usage = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            if b"granian" in cmdline:
                usage[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    mine = {os.getpid()}
    for _ in range(4):  # children, grandchildren...
        mine |= {pid for pid, parent in parents.items() if parent in mine}
    return sum(seconds for pid, seconds in usage.items() if pid in mine)


SIDES = (("seller", {"side": "SELL", "price": "60000"}),
         ("buyer", {"side": "BUY", "price": "60001"}))


def _send(where: SplitResult, symbol: str, numbers: range) -> list[float]:
    """Place orders `numbers` of the stream on one keep-alive connection, each after the
    answer to the one before; their latencies."""
    conn = http.client.HTTPConnection(where.hostname, where.port)
    latencies = []
    for i in numbers:
        who, side = SIDES[i % 2]
        key, secret = KEYS[who]
        start = time.perf_counter()
        query = urlencode({"symbol": symbol, "type": "LIMIT", "timeInForce": "GTC",
                           "quantity": "0.01", **side,
                           "timestamp": time.time_ns() // 1_000_000})
        query += "&signature=" + hmac.new(secret.encode(), query.encode(),
                                          hashlib.sha256).hexdigest()
        conn.request("POST", "/api/v3/order?" + query, headers={"X-MBX-APIKEY": key})
        response = conn.getresponse()
        body = response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"order {i} refused: {response.status} {body[:300]!r}")
    conn.close()
    return latencies


def run_http(orders: int, workdir: Path, cpu: list[float], elapsed: list[float],
             connections: int = 1) -> list[float]:
    """The HTTP latencies over `connections` keep-alive connections used at once; `cpu` gets
    the server's CPU seconds over the orders and `elapsed` their wall time."""
    from tests.api.stream_server import serving

    ids = _prepare(workdir / "http.db")
    _seed_keys(ids)
    from bitchange import db

    db.dispose()
    symbol = SYMBOL.replace("-", "")
    latencies: list[float] = []
    with serving(UNLIMITED) as url:
        where = urlsplit(url)
        cpu_start, started = _server_cpu(), time.perf_counter()
        shares = [range(c, orders, connections) for c in range(connections)]
        with ThreadPoolExecutor(connections) as clients:
            for part in clients.map(lambda numbers: _send(where, symbol, numbers), shares):
                latencies += part
        elapsed.append(time.perf_counter() - started)
        cpu.append(_server_cpu() - cpu_start)
    _check(ids, orders)
    return latencies


def _check(ids: dict[str, int], orders: int) -> None:
    """Every order of the run was placed and the books balance (read after the server ended)."""
    from sqlalchemy import func, select

    from bitchange import db, ledger
    from bitchange.trading.tables import Order

    with db.read() as conn:
        placed = conn.scalar(select(func.count()).select_from(Order.__table__))
        assert placed == orders, (placed, orders)
        assert ledger.reconcile(conn).ok
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=1,
                        help="keep-alive connections sending at once (default: one)")
    args = parser.parse_args()
    print(f"Signed POST /api/v3/order over HTTP, {args.orders} orders per run, {args.runs} "
          f"run(s); {_hardware()}")
    http_runs, inproc_runs = [], []
    http_cpu: list[float] = []
    http_wall: list[float] = []
    inproc_cpu: list[float] = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bitchange-bench-") as tmp:
            os.environ["DATA_DIR"] = tmp
            inproc_runs.append(_summary("in-process",
                                        run_service(args.orders, Path(tmp), inproc_cpu)))
            latencies = run_http(args.orders, Path(tmp), http_cpu, http_wall, args.connections)
            http_runs.append(_summary("HTTP API", latencies, http_wall[-1]))
        print(f"  run {run + 1}: HTTP {http_runs[-1]['rate']:,.0f} orders/s "
              f"(p99 {http_runs[-1]['p99']:.2f} ms), in-process "
              f"{inproc_runs[-1]['rate']:,.0f} orders/s; CPU per order: server "
              f"{http_cpu[-1] / args.orders * 1e3:.2f} ms, in-process "
              f"{inproc_cpu[-1] / args.orders * 1e3:.2f} ms")
    http_rate, inproc_rate = _print_medians(http_runs, inproc_runs)
    ratio = inproc_rate / http_rate
    cpu_ratio = statistics.median(http_cpu) / statistics.median(inproc_cpu)
    print(f"time per order, HTTP API / in-process placement: {ratio:.2f}x; CPU per order, "
          f"server / in-process: {cpu_ratio:.2f}x")


if __name__ == "__main__":
    main()
