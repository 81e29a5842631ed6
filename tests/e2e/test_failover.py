"""Failover, end to end: two app nodes (`serve --backend-only`, separate process groups on their
own ports) share the real PostgreSQL and Redis behind the real Caddy with deploy/Caddyfile.phase2
(the compiled frontend served as files, the nodes load-balanced with health checks and a sticky
cookie). Two traders trade through it in Chromium; in the middle the node holding Alice's
WebSocket is killed with SIGKILL; both browsers reconnect through Caddy to the surviving node
and carry on. Afterwards every acknowledged order is in the database, reconcile passes, and the
surviving node's book equals the one rebuilt from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Page, WebSocket, expect
from sqlalchemy import create_engine, select, text

from bitchange.config import PROJECT_ROOT
from bitchange.demo import DEMO_PASSWORD
from bitchange.ledger import reconcile
from bitchange.trading.service import book_from_database
from bitchange.trading.tables import MarketSequence
from tests.e2e.conftest import BUILD_TIMEOUT, RunningApp, log_in
from tests.nodes import Node, free_port, node_env, running_nodes
from tests.postgres import empty_database

REDIS_URL = os.environ.get("BITCHANGE_FAILOVER_REDIS_URL", "redis://127.0.0.1:6379/10")
ALICE = "alice@demo.bitchange.local"
BOB = "bob@demo.bitchange.local"
LIVE = 10_000  # ms: a live update through the proxy
RECONNECT = 60_000  # ms: a killed node's tabs are back on the other node
STICKY_COOKIE = "bc_node"


@dataclass
class Cluster:
    url: str
    database_url: str
    nodes: list[Node]
    caddy_log: Path

    def sticky_cookie(self, node: Node) -> dict[str, str]:
        """Caddy's sticky cookie for `node`, as its first answer would set it (the value is
        the HMAC-SHA256 of the upstream's address, keyed with the policy's secret, empty
        here)."""
        value = hmac.new(b"", node.address.encode(), hashlib.sha256).hexdigest()
        return {"name": STICKY_COOKIE, "value": value, "url": self.url}


def _wait(check, what: str, timeout: float, log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)  # polling a starting server
    raise RuntimeError(f"{what} did not come up in {timeout}s:\n{log.read_text()[-4000:]}")


def _answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - http://localhost
        return response.status == 200


def _run(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        done = subprocess.run([sys.executable, "-m", "bitchange", *command], cwd=PROJECT_ROOT,
                              env=env, stdout=out, stderr=subprocess.STDOUT,
                              timeout=BUILD_TIMEOUT, check=False)
    assert done.returncode == 0, log.read_text()[-4000:]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not shutil.which("caddy"):
        pytest.fail("caddy is not installed (Debian package `caddy`)")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    client.flushdb()
    tmp = tmp_path_factory.mktemp("failover")
    proxy_port = free_port()
    url = f"http://localhost:{proxy_port}"
    webdir = os.environ.get("BITCHANGE_E2E_WEBDIR", ".web-e2e") + "-failover"
    with empty_database() as database_url:
        env = node_env(database_url, REDIS_URL, tmp / "data", GRANIAN_WORKERS="1",
                       PUBLIC_URL=url, REFLEX_WEB_WORKDIR=webdir,
                       # The frontend talks to the proxy, never to a node.
                       REFLEX_API_URL=url)
        log = tmp / "setup.log"
        _run(["build"], env, log)  # the frontend, compiled once
        _run(["migrate"], env, log)
        _run(["seed-demo"], env, log)
        with running_nodes(["node-a", "node-b"], env, tmp) as nodes:
            caddy_log = tmp / "caddy.log"
            caddy = subprocess.Popen(
                ["caddy", "run", "--config", str(PROJECT_ROOT / "deploy" / "Caddyfile.phase2"),
                 "--adapter", "caddyfile"],
                env={**os.environ, "SITE_ADDRESS": url, "HOME": str(tmp),
                     "APP_UPSTREAMS": " ".join(node.address for node in nodes),
                     "FRONTEND_ROOT": str(PROJECT_ROOT / webdir / "build" / "client"),
                     "HEALTH_INTERVAL": "1s", "CADDY_ADMIN": f"localhost:{free_port()}",
                     "XDG_DATA_HOME": str(tmp / "caddy-data"),
                     "XDG_CONFIG_HOME": str(tmp / "caddy-config")},
                stdout=caddy_log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
            try:
                _wait(lambda: _answers(url + "/healthz"), "caddy", 60, caddy_log)
                yield Cluster(url, database_url, nodes, caddy_log)
            finally:
                caddy.terminate()
                caddy.wait(20)
    client.flushdb()
    client.close()


class Sockets:
    """A page's Reflex event WebSockets, as the browser opens them."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.opened: list[WebSocket] = []
        self.heard: set[int] = set()
        page.on("websocket", self._on_socket)

    def _on_socket(self, socket: WebSocket) -> None:
        if "/_event" in socket.url:
            self.opened.append(socket)
            socket.on("framereceived", lambda _frame: self.heard.add(id(socket)))

    def live(self) -> bool:
        return bool(self.opened) and not self.opened[-1].is_closed() \
            and id(self.opened[-1]) in self.heard

    def wait_live(self, after: int = 0, timeout_ms: int = RECONNECT) -> None:
        """Until the newest socket (one opened after the first `after`) is open and has
        heard from the backend."""
        deadline = time.monotonic() + timeout_ms / 1000
        while not (len(self.opened) > after and self.live()):
            assert time.monotonic() < deadline, "the tab did not (re)connect"
            self.page.wait_for_timeout(100)  # lets Playwright deliver the socket events


@dataclass
class Trader:
    email: str
    page: Page
    sockets: Sockets
    acknowledged_ids: list[int]
    fills: int = 0

    def place(self, side: str, price: str, amount: str) -> str:
        page = self.page
        page.click("#order-side-buy" if side == "BUY" else "#order-side-sell")
        page.fill("#order-price", price)
        page.fill("#order-amount", amount)
        notice = page.locator("#order-notice")
        before = notice.inner_text() if notice.count() else ""
        page.click("#place-order")
        expect(notice).not_to_have_text(before, timeout=LIVE)
        expect(notice).to_contain_text(re.compile(r"placed in the book|Bought|Sold"))
        said = notice.inner_text()
        if number := re.search(r"Order #(\d+) placed", said):
            self.acknowledged_ids.append(int(number.group(1)))
        else:
            self.fills += 1
        return said


def open_trader(new_context, cluster: Cluster, email: str, node: Node) -> Trader:  # type: ignore[no-untyped-def]
    """A trader whose browser Caddy sends to `node` (its sticky cookie names it)."""
    context = new_context()
    context.add_cookies([cluster.sticky_cookie(node)])
    page = context.new_page()
    sockets = Sockets(page)
    log_in(page, RunningApp(cluster.url, cluster.database_url, Path(), Path()), email,
           DEMO_PASSWORD)
    page.goto(f"{cluster.url}/trade/BTC-USDT")
    expect(page.locator("#market-symbol")).to_have_text("BTC-USDT")
    expect(page.locator("#place-order")).to_be_visible()
    expect(page.locator("#balance-base-available")).not_to_have_text("—")
    sockets.wait_live()
    return Trader(email, page, sockets, [])


def depth_of(node: Node) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(  # noqa: S310 - the node under test
            f"{node.url}/api/v3/depth?symbol=BTCUSDT&limit=100", timeout=10) as response:
        return json.load(response)


def test_traders_carry_on_through_the_proxy_when_a_node_is_killed(cluster, new_context):
    doomed, survivor = cluster.nodes
    alice = open_trader(new_context, cluster, ALICE, doomed)
    bob = open_trader(new_context, cluster, BOB, survivor)

    # Before: Alice rests two sells, Bob takes part of the first and rests a bid.
    assert "placed in the book" in alice.place("SELL", "60000", "0.1")
    assert "placed in the book" in alice.place("SELL", "61000", "0.1")
    expect(bob.page.locator("#book-asks .book-row")).to_have_count(2, timeout=LIVE)
    assert bob.place("BUY", "60000", "0.05") == "Bought 0.0500 BTC"
    assert "placed in the book" in bob.place("BUY", "59000", "0.01")
    for trader in (alice, bob):
        expect(trader.page.locator("#tape .tape-row")).to_have_count(1, timeout=LIVE)

    # The node holding Alice's socket dies; no clean shutdown. Caddy's passive and active
    # checks take it out; her tab reconnects through Caddy to the other node (her cookie
    # moves on there) and loads the page's state again: the form and its notice start
    # afresh. Bob's tab, on the other node, is not disturbed.
    alice_sockets, bob_sockets = len(alice.sockets.opened), len(bob.sockets.opened)
    doomed.kill()
    assert not doomed.healthy() and survivor.healthy()
    alice.sockets.wait_live(after=alice_sockets)
    expect(alice.page.locator("#order-notice")).to_have_count(0, timeout=RECONNECT)
    assert len(bob.sockets.opened) == bob_sockets and bob.sockets.live()

    # After: they carry on, and each sees the other's moves live.
    assert "placed in the book" in alice.place("SELL", "62000", "0.1")
    expect(bob.page.locator("#book-asks .book-row")).to_have_count(3, timeout=LIVE)
    said = bob.place("BUY", "60000", "0.1")
    assert said == "Bought 0.0500 BTC; the rest rests in the book"
    for trader in (alice, bob):
        expect(trader.page.locator("#tape .tape-row")).to_have_count(2, timeout=LIVE)
        expect(trader.page.locator("#book-bids .book-row").first).to_contain_text(
            "60,000.00", timeout=LIVE)
    expect(alice.page.locator("#book-asks .book-row")).to_have_count(2, timeout=LIVE)

    # Every acknowledged order is in the database, and nothing else was placed.
    engine = create_engine(cluster.database_url)
    try:
        with engine.connect() as conn:
            for trader in (alice, bob):
                rows = conn.execute(text(
                    "SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id "
                    "WHERE u.email = :email ORDER BY o.id"), {"email": trader.email}).scalars()
                ids = list(rows)
                assert set(trader.acknowledged_ids) <= set(ids), (trader.email, ids)
                assert len(ids) == len(trader.acknowledged_ids) + trader.fills
            report = reconcile(conn)
            assert report.ok, report.summary()
            rebuilt = book_from_database(conn, "BTC-USDT")
            seq = conn.scalar(select(MarketSequence.__table__.c.seq)
                              .where(MarketSequence.__table__.c.symbol == "BTC-USDT"))
    finally:
        engine.dispose()

    # The surviving node's book (in its memory, caught up) is the one the database holds.
    served = depth_of(survivor)
    assert served["lastUpdateId"] == seq
    bids, asks = rebuilt.depth(100)
    as_numbers = [[[Decimal(p), Decimal(q)] for p, q in side]
                  for side in (served["bids"], served["asks"])]
    assert as_numbers == [[[Decimal(p) / 10**6, Decimal(q) / 10**8] for p, q in side]
                          for side in (bids, asks)]
    assert [len(side) for side in as_numbers] == [2, 2]  # 60,000 and 59,000; 61,000 and 62,000
