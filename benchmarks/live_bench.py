"""Live fan-out: how long after a trade every registered trading tab holds the new book, tape,
chart tail and (for the two traders) balances, through the process's watcher, against every
tab building its own views (what per-client polling would cost), in the same run.

    .venv/bin/python benchmarks/live_bench.py                      # 10, 100, 500 tabs, 3 runs
    .venv/bin/python benchmarks/live_bench.py --tabs 20 --runs 1   # CI smoke

Tabs are real `TradeState` trees with their own session cookies, held in memory, with sockets
of a fake namespace (`tests.livetabs`): the watcher emits the market's view once for all of
them and changes the traders' tabs through `modify_state`, as the app does (the socket writes
themselves are not included). A trade is placed, then one watcher round runs: its duration
plus the poll interval (`live.POLL_SECONDS`, the wait before the round notices the trade) is
the delay a tab sees at worst. The baseline refreshes each tab by itself: its own snapshot,
chart tail and private view. A tenth of the tabs are signed in. Prints figures only; asserts
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from placement_bench import SYMBOL, _hardware, _prepare

from tests.livetabs import FakeApp


def _tabs(count: int, users: list[int]):  # type: ignore[no-untyped-def]
    """`count` tabs on the market; every tenth signed in as one of `users`."""
    import reflex as rx
    from reflex.istate.data import RouterData

    import bitchange.bitchange  # noqa: F401 - registers every state, as the app does
    from bitchange import db
    from bitchange.accounts.sessions import activate_session, cookie_name, start_session
    from bitchange.state.trade import TradeState

    roots, tabs = {}, []
    for i in range(count):
        cookie = ""
        if i % 10 == 0:
            with db.write() as conn:
                ticket = start_session(conn, users[i // 10 % len(users)], ip="127.0.0.1",
                                       user_agent="bench")
                cookie = f"{cookie_name()}={activate_session(conn, ticket)}"
        root = rx.State(_reflex_internal_init=True)
        root.router = RouterData.from_router_data({
            "token": f"tab-{i}", "pathname": "/trade/[symbol]", "asPath": f"/trade/{SYMBOL}",
            "query": {"symbol": SYMBOL}, "headers": {"cookie": cookie, "origin": "http://b"}})
        tab = root.substates[TradeState.get_name()]
        asyncio.run(TradeState.load.fn(tab))
        roots[f"tab-{i}"] = root
        tabs.append(tab)
    return roots, tabs


def run(count: int, workdir: Path) -> tuple[float, float]:
    """(watcher round, every tab refreshing itself) in seconds, after one trade."""
    ids = _prepare(workdir / "live.db")
    from bitchange import db
    from bitchange.state import live
    from bitchange.state.trade import TradeState
    from bitchange.trading import service
    from bitchange.trading.service import OrderRequest

    live._watches.clear()
    roots, tabs = _tabs(count, [ids["seller"], ids["buyer"]])
    app = FakeApp(roots)
    checked: dict = {}  # type: ignore[type-arg]
    asyncio.run(live.tick(app, checked))  # nothing new yet: sets the marks

    def trade(price: int) -> None:
        service.place_order(ids["seller"], SYMBOL, OrderRequest(
            side="SELL", kind="limit", price=price, quantity=10**6))
        service.place_order(ids["buyer"], SYMBOL, OrderRequest(
            side="BUY", kind="limit", price=price, quantity=5 * 10**5))

    trade(60_000 * 10**6)
    start = time.perf_counter()
    asyncio.run(live.tick(app, checked))
    fan_out = time.perf_counter() - start
    assert all(app.received(token, TradeState)["tape"] for token in roots)  # every tab got it

    trade(60_001 * 10**6)
    start = time.perf_counter()
    for tab in tabs:  # what each tab would do if it refreshed itself
        tab._refresh_market()
        tab._load_chart()
        if tab.signed_in:
            tab._refresh_private()
    each = time.perf_counter() - start
    live._watches.clear()
    service.forget_books()
    db.dispose()
    return fan_out, each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from bitchange.state.live import POLL_SECONDS

    print(f"Live fan-out after one trade, {args.runs} run(s); watcher polls every "
          f"{POLL_SECONDS * 1000:.0f} ms; {_hardware()}")
    for count in args.tabs:
        rounds, each = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="bitchange-bench-") as tmp:
                fan_out, alone = run(count, Path(tmp))
            rounds.append(fan_out)
            each.append(alone)
        fan_out, alone = statistics.median(rounds), statistics.median(each)
        print(f"{count:>5} tabs: watcher round {fan_out * 1e3:7.1f} ms "
              f"(worst delay {(POLL_SECONDS + fan_out) * 1e3:6.0f} ms); every tab by itself "
              f"{alone * 1e3:7.1f} ms; {alone / fan_out:4.1f}x  (medians)")


if __name__ == "__main__":
    main()
