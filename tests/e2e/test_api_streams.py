"""The API market streams on the real app (`bitchange run`: Reflex's backend with the routes
and lifespan tasks of bitchange.py): a `websockets` client subscribes live to btcusdt@trade
and btcusdt@depth, the demo traders trade through `trading.service` against the app's
database (another process, as another worker would), and the client's local book, kept by
Binance's procedure, ends equal to the database's; and an order placed on the trading screen
reaches its owner's user data stream (listenKey from the demo API key) and the public
trade stream."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from playwright.sync_api import expect
from websockets.asyncio.client import connect
from websockets.sync.client import connect as connect_sync

from bitchange.config import PROJECT_ROOT
from bitchange.demo import DEMO_API_KEYS
from tests.api.local_book import as_book, local_book
from tests.e2e.extras_helpers import ALICE, BOB
from tests.e2e.test_trading import open_market

WAIT = 60  # seconds: a bound against hanging, never a pause

# Prints the REST depth snapshot, then (after placing and cancelling) the final one and the
# new trades' ids, as JSON lines.
_TRADE = """
import json, random, sys
from bitchange import db
from bitchange.accounts.users import get_user_by_email
from bitchange.api.stream_events import last_trade_id, rest_depth
from bitchange.trading.book_levels import snapshot_read
from bitchange.trading.service import OrderRequest, TradingError, cancel_order, place_order

def depth():
    with snapshot_read() as conn:
        return rest_depth(conn, "BTC-USDT", 5000)

with db.read() as conn:
    ids = [get_user_by_email(conn, email).id for email in sys.argv[1:3]]
    before = last_trade_id(conn, "BTC-USDT")
print(json.dumps(depth()), flush=True)
rng, resting = random.Random(11), []
for _ in range(60):
    if resting and rng.random() < 0.3:
        owner, order_id = resting.pop(rng.randrange(len(resting)))
        try:
            cancel_order(owner, order_id)
        except TradingError:
            pass
        continue
    user = rng.choice(ids)
    placed = place_order(user, "BTC-USDT", OrderRequest(
        side=rng.choice(["BUY", "SELL"]), kind="limit",
        price=rng.randint(64_995, 65_005) * 10**6, quantity=rng.randint(1, 3) * 10**6))
    if placed.status in ("open", "partially_filled"):
        resting.append((user, placed.order_id))
with db.read() as conn:
    from sqlalchemy import text
    trades = list(conn.scalars(text(
        "SELECT id FROM trades WHERE symbol = 'BTC-USDT' AND id > :b ORDER BY id"), {"b": before}))
print(json.dumps(depth()), flush=True)
print(json.dumps(trades), flush=True)
"""


def test_streams_on_the_running_app(app) -> None:  # type: ignore[no-untyped-def]
    async def run() -> None:
        url = app.url.replace("http://", "ws://") + "/ws"
        async with connect(url) as ws:
            await ws.send(json.dumps({"method": "SUBSCRIBE", "id": 1,
                                      "params": ["btcusdt@trade", "btcusdt@depth"]}))
            assert json.loads(await asyncio.wait_for(ws.recv(), WAIT)) == {"result": None,
                                                                           "id": 1}
            result = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-c", _TRADE, ALICE, BOB], cwd=PROJECT_ROOT,
                env=app.env, capture_output=True, text=True, timeout=300, check=False)
            assert result.returncode == 0, result.stderr
            snapshot, final, trade_ids = (json.loads(line)
                                          for line in result.stdout.splitlines())
            assert trade_ids, "the random orders traded"
            received: list[dict] = []
            while not received or received[-1].get("u") != final["lastUpdateId"]:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), WAIT)))
        diffs = [m for m in received if m["e"] == "depthUpdate"]
        assert local_book(snapshot, diffs) == as_book(final) != as_book(snapshot)
        assert [m["t"] for m in received if m["e"] == "trade"] == trade_ids

    # Playwright's loop runs in this thread in the e2e session: the client gets a thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def test_a_browser_order_reaches_the_user_data_stream_and_the_public_streams(  # type: ignore[no-untyped-def]
        app, new_context, console) -> None:
    """Alice's bot listens with her demo API key while she trades on the screen."""
    listen_key = httpx.post(app.url + "/api/v3/userDataStream", timeout=WAIT,
                            headers={"X-MBX-APIKEY": DEMO_API_KEYS[ALICE][0]}
                            ).json()["listenKey"]
    base = app.url.replace("http://", "ws://")
    alice = open_market(new_context, app, ALICE, "ETH-USDT")
    bob = open_market(new_context, app, BOB, "ETH-USDT")
    with connect_sync(f"{base}/ws/{listen_key}") as mine, \
            connect_sync(f"{base}/ws/ethusdt@trade") as tape:
        alice.click("#order-side-sell")
        alice.fill("#order-price", "2000")
        alice.fill("#order-amount", "0.5")
        alice.click("#place-order")
        expect(alice.locator("#order-notice")).to_contain_text("placed in the book")
        new = json.loads(mine.recv(timeout=WAIT))
        assert (new["e"], new["s"], new["x"], new["S"], new["p"], new["q"]) == (
            "executionReport", "ETHUSDT", "NEW", "SELL", "2000.000000", "0.50000000")
        assert json.loads(mine.recv(timeout=WAIT))["e"] == "outboundAccountPosition"
        bob.fill("#order-price", "2000")
        bob.fill("#order-amount", "0.2")
        bob.click("#place-order")
        expect(bob.locator("#order-notice")).to_contain_text("Bought")
        trade = json.loads(tape.recv(timeout=WAIT))
        assert (trade["e"], trade["s"], trade["p"], trade["q"], trade["m"]) == (
            "trade", "ETHUSDT", "2000.000000", "0.20000000", False)
        fill = json.loads(mine.recv(timeout=WAIT))
        assert (fill["x"], fill["X"], fill["i"], fill["t"], fill["l"], fill["m"]) == (
            "TRADE", "PARTIALLY_FILLED", new["i"], trade["t"], "0.20000000", True)


@pytest.fixture(scope="module")
def app(own_app):  # type: ignore[no-untyped-def]
    """This module's orders rest in books of their own, not the shared app's."""
    return own_app
