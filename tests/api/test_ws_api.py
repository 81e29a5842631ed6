"""Binance's WebSocket API at /ws-api/v3 under Granian: requests answered in Binance's shape,
the user data stream by signature (events wrapped with their subscription's id, ended when the
key is revoked), orders placed and cancelled through the REST endpoints' own code, and an
unmodified ccxt.pro `binance` client following its orders and balance there."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from itertools import count

import ccxt.pro
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bitchange import db, ledger
from bitchange.accounts import api_keys
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from bitchange.trading.tables import Order
from tests.api.conftest import BTC, USDT, make_trader, new_key
from tests.api.stream_server import serving

WAIT = 30  # seconds: a bound against hanging, never a pause
_ids = count(1)


def signed(key: api_keys.NewKey, **params: object) -> dict[str, object]:
    """`params` signed as Binance signs a WebSocket API request: every parameter but the
    signature, sorted by name, as a query string."""
    params = {**params, "apiKey": key.api_key, "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{name}={value}" for name, value in sorted(params.items()))
    signature = hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()  # type: ignore[union-attr]
    return {**params, "signature": signature}


async def request(ws, method: str, params: dict | None = None) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """Send one request; its answer (events that arrive meanwhile are left out)."""
    rid = f"r{next(_ids)}"
    await ws.send(json.dumps({"id": rid, "method": method, **(
        {"params": params} if params is not None else {})}))
    while True:
        answer = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if answer.get("id") == rid:
            return answer


async def event(ws, kind: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """The next wrapped user data event of `kind`."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if "subscriptionId" in message and message["event"]["e"] == kind:
            return message


def orders_of(user_id: int) -> int:
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(Order.__table__)
                           .where(Order.__table__.c.user_id == user_id))


async def test_requests_are_answered_in_binances_shape(client) -> None:
    with serving() as url:
        async with connect(url + "/ws-api/v3") as ws:
            pong = await request(ws, "ping")
            assert (pong["status"], pong["result"]) == (200, {})
            assert pong["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
            assert "rateLimits" not in await request(ws, "ping", {"returnRateLimits": False})
            assert abs((await request(ws, "v3/time"))["result"]["serverTime"]
                       - time.time() * 1000) < 60_000
            info = await request(ws, "exchangeInfo", {"symbols": ["BTCUSDT"]})
            assert [s["symbol"] for s in info["result"]["symbols"]] == ["BTCUSDT"]
            depth = await request(ws, "depth", {"symbol": "NOPE"})
            assert (depth["status"], depth["error"]) == (400, {"code": -1121,
                                                               "msg": "Invalid symbol."})
            unknown = await request(ws, "margin.loan")
            assert unknown["error"] == {"code": -1020, "msg": "This operation is not supported."}
            await ws.send("{not json")
            broken = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert (broken["id"], broken["status"], broken["error"]) == (
                None, 400, {"code": -1135, "msg": "Invalid JSON Request"})
            # Refused requests still cost weight: the count goes on rising.
            used = [r["rateLimits"][0]["count"] for r in (pong, unknown, broken)]
            assert used == sorted(used) and len(set(used)) == 3
            await ws.send("x" * 70_000)  # closed before it is parsed
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), WAIT)
            assert ws.close_code == 1009


async def test_orders_through_the_rest_endpoints_code(client, alice) -> None:
    key = new_key(alice)
    with serving() as url:
        async with connect(url + "/ws-api/v3") as ws:
            placed = await request(ws, "order.place", signed(
                key, symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.01", price="30000", newClientOrderId="ws-1"))
            assert placed["status"] == 200, placed
            order = placed["result"]
            assert (order["status"], order["clientOrderId"], order["origQty"]) == (
                "NEW", "ws-1", "0.01000000")
            assert {(r["rateLimitType"], r["interval"]) for r in placed["rateLimits"]} == {
                ("REQUEST_WEIGHT", "MINUTE"), ("ORDERS", "SECOND"), ("ORDERS", "DAY")}
            assert alice.balance("USDT")[1] == 300 * USDT  # held by the service
            status = await request(ws, "order.status", signed(
                key, symbol="BTCUSDT", origClientOrderId="ws-1"))
            assert status["result"]["orderId"] == order["orderId"]
            short = await request(ws, "order.place", signed(
                key, symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="1000", price="30000"))
            assert short["error"] == {
                "code": -2010, "msg": "Account has insufficient balance for requested action."}
            forged = signed(key, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="1")
            forged["quantity"] = "2"  # changed after signing
            assert (await request(ws, "order.place", forged))["error"]["code"] == -1022
            stale = signed(key, symbol="BTCUSDT", orderId=order["orderId"])
            stale["timestamp"] = int(time.time() * 1000) - 600_000
            assert (await request(ws, "order.cancel", stale))["error"]["code"] == -1021
            cancelled = await request(ws, "order.cancel", signed(
                key, symbol="BTCUSDT", orderId=order["orderId"]))
            assert cancelled["result"]["status"] == "CANCELED"
    assert alice.balance("USDT") == (1_000_000 * USDT, 0) and orders_of(alice.user_id) == 1
    with db.read() as conn:
        assert ledger.reconcile(conn).ok


async def test_the_user_data_stream_by_signature(client, alice, bob) -> None:
    key, bob_key = new_key(alice, scopes=("read",)), new_key(bob)
    with serving() as url:
        async with connect(url + "/ws-api/v3") as ws:
            wrong = signed(key)
            wrong["signature"] = "0" * 64
            refused = await request(ws, "userDataStream.subscribe.signature", wrong)
            assert refused["error"] == {"code": -1022,
                                        "msg": "Signature for this request is not valid."}
            assert refused["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
            subscribed = await request(ws, "userDataStream.subscribe.signature", signed(key))
            assert subscribed["result"] == {"subscriptionId": 0}
            again = await request(ws, "userDataStream.subscribe.signature", signed(key))
            assert again["error"]["code"] == -2035
            theirs = await request(ws, "userDataStream.subscribe.signature", signed(bob_key))
            assert theirs["result"] == {"subscriptionId": 1}
            assert (await request(ws, "session.subscriptions"))["result"] == [
                {"subscriptionId": 0}, {"subscriptionId": 1}]
            assert (await request(ws, "userDataStream.unsubscribe",
                                  {"subscriptionId": 1}))["result"] == {}
            sell = await asyncio.to_thread(
                service.place_order, alice.user_id, "BTC-USDT",
                OrderRequest(side="SELL", kind="limit", price=65_000 * USDT, quantity=BTC // 10))
            report = await event(ws, "executionReport")
            assert report["subscriptionId"] == 0
            assert (report["event"]["i"], report["event"]["X"]) == (sell.order_id, "NEW")
            # bob's order is not reported: his subscription was closed.
            await asyncio.to_thread(service.place_order, bob.user_id, "BTC-USDT", OrderRequest(
                side="BUY", kind="limit", price=60_000 * USDT, quantity=BTC // 10))
            position = await event(ws, "outboundAccountPosition")
            assert {b["a"] for b in position["event"]["B"]} == {"BTC"}  # alice's hold
            with db.write() as conn:
                api_keys.revoke(conn, alice.user_id, key.key_id)
            ended = await event(ws, "eventStreamTerminated")
            assert ended["subscriptionId"] == 0
            assert (await request(ws, "session.subscriptions"))["result"] == []
            assert (await request(ws, "ping"))["status"] == 200  # the connection stays open


async def test_ccxt_pro_follows_its_orders_and_balance_on_the_websocket_api(client,
                                                                            alice) -> None:
    key = new_key(alice)
    seller = make_trader("seller@example.com", {"BTC": 10 * BTC})
    with serving() as url:
        host = url.replace("ws://", "http://")
        exchange = ccxt.pro.binance({
            "apiKey": key.api_key, "secret": key.secret,
            "urls": {"api": {"public": host + "/api/v3", "private": host + "/api/v3",
                             "v1": host + "/api/v1", "sapi": host + "/sapi/v1",
                             "ws": {"spot": url + "/ws", "ws-api": {"spot": url + "/ws-api/v3"}}}},
            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                        "fetchMargins": False},
        })
        try:
            await exchange.load_markets()
            await exchange.authenticate()  # the subscription by signature, confirmed
            watching = asyncio.create_task(exchange.watch_orders("BTC/USDT"))
            balance = asyncio.create_task(exchange.watch_balance())
            placed = await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 30000)
            orders = await asyncio.wait_for(watching, WAIT)
            assert [o["id"] for o in orders] == [placed["id"]]
            assert orders[0]["status"] == "open" and orders[0]["price"] == 30000.0
            held = await asyncio.wait_for(balance, WAIT)
            assert (held["USDT"]["free"], held["USDT"]["used"]) == (999_700.0, 300.0)
            # Orders over the WebSocket API itself (ccxt signs them there, no rateLimits).
            by_ws = await exchange.create_order_ws("BTC/USDT", "limit", "buy", 0.01, 29000)
            assert by_ws["status"] == "open" and by_ws["price"] == 29000.0
            assert (await exchange.cancel_order_ws(by_ws["id"], "BTC/USDT"))["status"] == \
                "canceled"
            trading = asyncio.create_task(exchange.watch_my_trades("BTC/USDT"))
            await asyncio.to_thread(service.place_order, seller.user_id, "BTC-USDT",
                                    OrderRequest(side="SELL", kind="limit",
                                                 price=30_000 * USDT, quantity=BTC // 100))
            trades = await asyncio.wait_for(trading, WAIT)
            assert trades[-1]["order"] == placed["id"] and trades[-1]["amount"] == 0.01
        finally:
            await exchange.close()
