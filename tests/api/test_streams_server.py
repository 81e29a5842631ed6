"""The market streams end to end: bitchange.web's routes under a real server (Granian, another
process, its own watcher) on a SQLite file, real `websockets` clients, orders placed through
`trading.service` in this process, as another worker or node would."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from bitchange import db
from bitchange.api.stream_events import last_trade_id, rest_depth
from bitchange.trading import service
from bitchange.trading.book_levels import snapshot_read
from bitchange.trading.service import OrderRequest
from bitchange.trading.tables import Trade
from tests.api.local_book import as_book, local_book
from tests.api.stream_fixtures import market_fixture  # noqa: F401 - `market`
from tests.api.stream_server import serving
from tests.trading.conftest import BTC, USDT, make_trader

WAIT = 30  # seconds: a bound against hanging, never a pause
_trades = Trade.__table__


@pytest.fixture
def server(market):  # type: ignore[no-untyped-def]
    with serving() as url:
        yield url


def _limit(side: str, usdt: int, lots: int) -> OrderRequest:
    return OrderRequest(side=side, kind="limit", price=usdt * USDT, quantity=lots * BTC // 100)


def _depth() -> dict:
    with snapshot_read() as conn:
        return rest_depth(conn, "BTC-USDT", 10_000)


async def _next(ws: ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), WAIT))


async def _ask(ws: ClientConnection, message: dict) -> dict:
    await ws.send(json.dumps(message))
    return await _next(ws)


async def test_local_book_and_trades_from_the_combined_stream(server) -> None:
    rng = random.Random(7)
    traders = [make_trader(f"t{i}@example.com", {"BTC": 50 * BTC, "USDT": 5_000_000 * USDT})
               for i in range(3)]
    with db.read() as conn:
        trades_before = last_trade_id(conn, "BTC-USDT")
    received: list[dict] = []
    async with connect(server + "/stream?streams=btcusdt@trade/btcusdt@depth") as ws:

        async def operate(steps: int, open_orders: list) -> None:  # type: ignore[type-arg]
            for _ in range(steps):
                trader = rng.choice(traders)
                if open_orders and rng.random() < 0.35:
                    owner, order_id = open_orders.pop(rng.randrange(len(open_orders)))
                    try:
                        await asyncio.to_thread(service.cancel_order, owner, order_id)
                    except service.TradingError:
                        continue  # filled meanwhile
                else:
                    placed = await asyncio.to_thread(
                        service.place_order, trader.user_id, "BTC-USDT",
                        _limit(rng.choice(["BUY", "SELL"]), rng.randint(64_995, 65_005),
                               rng.randint(1, 4)))
                    if placed.status in ("open", "partially_filled"):
                        open_orders.append((trader.user_id, placed.order_id))

        open_orders: list = []  # type: ignore[type-arg]
        await operate(60, open_orders)  # events buffered while the client has no snapshot
        snapshot = await asyncio.to_thread(_depth)
        await operate(140, open_orders)
        final = await asyncio.to_thread(_depth)
        while not received or received[-1].get("data", {}).get("u") != final["lastUpdateId"]:
            received.append(await _next(ws))  # until the stream reaches the final seq
    assert {m["stream"] for m in received} == {"btcusdt@trade", "btcusdt@depth"}
    diffs = [m["data"] for m in received if m["stream"] == "btcusdt@depth"]
    assert local_book(snapshot, diffs) == as_book(final)
    assert as_book(final) != as_book(snapshot)
    trades = [m["data"] for m in received if m["stream"] == "btcusdt@trade"]
    with db.read() as conn:
        rows = list(conn.execute(select(_trades).where(_trades.c.id > trades_before)
                                 .order_by(_trades.c.id)))
    assert rows, "the random orders traded"
    assert [t["t"] for t in trades] == [r.id for r in rows]
    assert [(t["p"], t["q"], t["m"]) for t in trades] == [
        (f"{r.price / USDT:.6f}", f"{r.quantity / BTC:.8f}", r.taker_side == "SELL")
        for r in rows]


async def test_live_subscribe_list_unsubscribe_and_properties(server) -> None:
    seller = make_trader("s@example.com", {"BTC": 10 * BTC})
    buyer = make_trader("b@example.com", {"USDT": 1_000_000 * USDT})

    def trade(lots: int) -> None:
        service.place_order(seller.user_id, "BTC-USDT", _limit("SELL", 65_000, lots))
        service.place_order(buyer.user_id, "BTC-USDT", _limit("BUY", 65_000, lots))

    async with connect(server + "/ws") as ws:
        assert await _ask(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@trade"],
                               "id": 1}) == {"result": None, "id": 1}
        assert await _ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": "x2"}) == {
            "result": ["btcusdt@trade"], "id": "x2"}
        await asyncio.to_thread(trade, 1)
        event = await _next(ws)
        assert (event["e"], event["s"], event["q"]) == ("trade", "BTCUSDT", "0.01000000")
        assert await _ask(ws, {"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"],
                               "id": 3}) == {"result": None, "id": 3}
        assert await _ask(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"],
                               "id": 4}) == {"result": None, "id": 4}
        await asyncio.to_thread(trade, 2)
        # Had the trade stream stayed on, its event (published first) would come first.
        event = await _next(ws)
        assert (event["e"], event["q"]) == ("aggTrade", "0.02000000")
    # Binance allows 5 control messages per second per connection: the rest on new ones.
    async with connect(server + "/ws/btcusdt@aggTrade") as ws:
        assert await _ask(ws, {"method": "GET_PROPERTY", "params": ["combined"],
                               "id": 5}) == {"result": False, "id": 5}
        assert await _ask(ws, {"method": "SET_PROPERTY", "params": ["combined", True],
                               "id": 6}) == {"result": None, "id": 6}
        assert (await _ask(ws, {"method": "SET_PROPERTY", "params": ["combined", True, 1],
                                "id": 10}))["msg"] == "Invalid request: too many parameters"
        await asyncio.to_thread(trade, 3)
        wrapped = await _next(ws)
        assert wrapped["stream"] == "btcusdt@aggTrade"
        assert wrapped["data"]["q"] == "0.03000000"
    async with connect(server + "/ws") as ws:
        # Errors as Binance words them; the connection stays usable.
        await ws.send("{not json")
        assert (await _next(ws))["code"] == 3
        refusal = {"code": 2, "msg": "Invalid request: invalid stream name 'nosuch@trade'"}
        # The documented fields, and the same under `error` as the live servers send it
        # (what ccxt reads to fail the subscription).
        assert await _ask(ws, {"method": "SUBSCRIBE", "params": ["nosuch@trade"], "id": 7}) \
            == {**refusal, "error": refusal, "id": 7}
        answer = await _ask(ws, {"method": "PUBLISH", "id": 8})
        assert answer["code"] == 2 and answer["id"] == 8
        assert (await _ask(ws, {"method": "GET_PROPERTY", "params": ["colour"],
                                "id": 9}))["code"] == 0
        assert (await _ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1.5}))["code"] == 2
        pong = await ws.ping(b"hello")
        await asyncio.wait_for(pong, WAIT)


async def test_a_bad_stream_name_is_refused_and_too_many_messages_close(server) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(server + "/ws/btcusdt@nosuch"):
            pass
    async with connect(server + "/ws/btcusdt@bookTicker") as ws:
        for i in range(6):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        answers = []
        with pytest.raises(ConnectionClosedError, match="Too many messages"):
            while True:
                answers.append(await _next(ws))
        assert [a["result"] for a in answers] == [["btcusdt@bookTicker"]] * 5


async def test_two_workers_each_serve_the_same_book_and_trades(market) -> None:
    """Two server processes, each with its own watcher, on one database: whichever worker a
    socket lands on, its diff events chain onto the REST snapshot and end at the database's
    book, and it gets every trade."""
    seller = make_trader("s@example.com", {"BTC": 10 * BTC})
    buyer = make_trader("b@example.com", {"USDT": 1_000_000 * USDT})
    with serving(workers=2) as url:
        sockets = [await connect(url + "/stream?streams=btcusdt@depth/btcusdt@trade")
                   for _ in range(6)]
        snapshot = await asyncio.to_thread(_depth)
        for i in range(12):
            await asyncio.to_thread(service.place_order, seller.user_id, "BTC-USDT",
                                    _limit("SELL", 65_000 + i % 3, 2))
            await asyncio.to_thread(service.place_order, buyer.user_id, "BTC-USDT",
                                    _limit("BUY", 64_990 + i % 4, 1 + i % 3))
            if i % 4 == 0:
                await asyncio.to_thread(service.place_order, buyer.user_id, "BTC-USDT",
                                        _limit("BUY", 65_002, 1))
        final = await asyncio.to_thread(_depth)
        with db.read() as conn:
            trade_ids = [r.id for r in conn.execute(select(_trades.c.id).order_by(_trades.c.id))]
        for ws in sockets:
            received: list[dict] = []
            while not received or received[-1]["data"].get("u") != final["lastUpdateId"]:
                received.append(await _next(ws))
            diffs = [m["data"] for m in received if m["stream"] == "btcusdt@depth"]
            assert local_book(snapshot, diffs) == as_book(final)
            trades = [m["data"]["t"] for m in received if m["stream"] == "btcusdt@trade"]
            assert trades == trade_ids
            await ws.close()


async def test_open_sockets_are_bounded_per_process_and_per_peer_address(market) -> None:
    """At most 2 sockets per client IP and 3 in all (settings); a socket closed makes room."""
    limits = {"STREAM_MAX_CONNECTIONS_PER_IP": "2", "STREAM_MAX_CONNECTIONS": "3"}

    def connect_from(url: str, ip: str):  # type: ignore[no-untyped-def]
        return connect(url + "/ws/btcusdt@trade", local_addr=(ip, 0))

    async def refused(url: str, ip: str) -> int:
        with pytest.raises(InvalidStatus) as refusal:
            await connect_from(url, ip)
        response = refusal.value.response
        assert json.loads(response.body)["code"] == -1003
        return response.status_code

    with serving(limits) as url:
        first = [await connect_from(url, "127.0.0.1") for _ in range(2)]
        assert await refused(url, "127.0.0.1") == 429  # this address has its two
        other = await connect_from(url, "127.0.0.2")  # another address may: 3 in all
        assert await refused(url, "127.0.0.3") == 429  # the process is full
        await first[0].close()
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:  # polling until the server has seen the close, with a deadline
            try:
                again = await connect_from(url, "127.0.0.1")
                break
            except InvalidStatus:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
        for ws in (first[1], other, again):
            await ws.close()


async def test_a_socket_opened_on_a_label_subscribes_by_message(server) -> None:
    """ccxt opens `/ws/0`, `/ws/1`... and subscribes by message, as Binance allows; a path
    shaped like a listenKey is one, refused when it is not known."""
    seller = make_trader("s@example.com", {"BTC": 10 * BTC})
    async with connect(server + "/ws/0") as ws:
        assert await _ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1}) == {
            "result": [], "id": 1}
        assert await _ask(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@depth"],
                               "id": 2}) == {"result": None, "id": 2}
        await asyncio.to_thread(service.place_order, seller.user_id, "BTC-USDT",
                                _limit("SELL", 65_000, 1))
        event = await _next(ws)
        assert (event["e"], event["a"]) == ("depthUpdate", [["65000.000000", "0.01000000"]])
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(server + "/ws/" + "a1" * 30):
            pass
    assert json.loads(refusal.value.response.body)["code"] == -1125


async def test_two_names_of_one_stream_each_get_it(server) -> None:
    """btcusdt@depth and btcusdt@depth@100ms are one payload: each name gets it, and
    dropping one leaves the other."""
    seller = make_trader("s@example.com", {"BTC": 10 * BTC})

    def sell(usdt: int) -> None:
        service.place_order(seller.user_id, "BTC-USDT", _limit("SELL", usdt, 1))

    names = ["btcusdt@depth", "btcusdt@depth@100ms"]
    async with connect(server + "/stream?streams=" + "/".join(names)) as ws:
        await asyncio.to_thread(sell, 65_000)
        first = [await _next(ws), await _next(ws)]
        assert sorted(m["stream"] for m in first) == names
        assert first[0]["data"] == first[1]["data"]
        assert await _ask(ws, {"method": "UNSUBSCRIBE", "params": [names[1]], "id": 1}) == {
            "result": None, "id": 1}
        await asyncio.to_thread(sell, 65_100)
        after = await _next(ws)
        assert (after["stream"], after["data"]["a"]) == (names[0], [["65100.000000", "0.01000000"]])
        assert await _ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 2}) == {
            "result": [names[0]], "id": 2}  # nothing else was queued before this answer


async def test_partial_depth_comes_on_subscribe_and_on_its_cadence(server) -> None:
    """Binance pushes @depth<levels> every second: a quiet book is sent at once to a new
    listener, and again a second later, with the same lastUpdateId."""
    seller = make_trader("s@example.com", {"BTC": 10 * BTC})
    await asyncio.to_thread(service.place_order, seller.user_id, "BTC-USDT",
                            _limit("SELL", 65_000, 1))
    last_update = _depth()["lastUpdateId"]
    async with connect(server + "/ws/btcusdt@depth5") as ws:
        loop = asyncio.get_running_loop()
        first = await _next(ws)
        received_at = loop.time()
        again = await _next(ws)
        assert loop.time() - received_at >= 0.9  # the cadence, not a burst
    for event in (first, again):
        assert event == {"lastUpdateId": last_update, "bids": [],
                         "asks": [["65000.000000", "0.01000000"]]}


def test_connections_are_counted_per_client_behind_the_proxy(market, monkeypatch) -> None:
    """Behind Caddy every socket comes from the proxy: the per-IP bound is the client's (the
    handshakes only, in-process, with production's one trusted hop)."""
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from bitchange.config import Settings, reload_settings
    from bitchange.web import api

    monkeypatch.setenv("STREAM_MAX_CONNECTIONS_PER_IP", "1")
    reload_settings()
    monkeypatch.setattr(Settings, "trusted_proxy_hops", property(lambda s: 1))

    def connect_as(client: TestClient, address: str):  # type: ignore[no-untyped-def]
        return client.websocket_connect("/ws/btcusdt@trade",
                                        headers={"X-Forwarded-For": address})

    # Another client through the same proxy may; the first one has its one socket.
    with TestClient(api) as client, connect_as(client, "198.51.100.1"), \
            connect_as(client, "198.51.100.2"), pytest.raises(WebSocketDisconnect), \
            connect_as(client, "198.51.100.1"):
        pass
    monkeypatch.delenv("STREAM_MAX_CONNECTIONS_PER_IP")
    reload_settings()
