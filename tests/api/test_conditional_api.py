"""Conditional orders and OCO lists over the REST API (Binance's types and parameters), and an
unmodified ccxt `binance` client placing a stop-limit with `{"stopPrice": X}`."""

from __future__ import annotations

import asyncio
import json

import ccxt
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from bitchange import db
from bitchange.ledger import reconcile
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from bitchange.trading.tables import Order
from tests.api.conftest import BTC, USDT, Signed, Trader, make_trader, new_key
from tests.api.stream_server import serving

STOP_LIMIT_SELL = {"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_LOSS_LIMIT",
                   "timeInForce": "GTC", "quantity": "0.01", "price": "29400",
                   "stopPrice": "29500"}


@pytest.fixture
def carol(client) -> Trader:
    """bob's counterparty (a trader's own orders never fill each other)."""
    return make_trader("carol@example.com", {"BTC": 10 * BTC, "USDT": 1_000_000 * USDT},
                       two_factor=False)


def trade_at(seller, buyer, usdt: int) -> None:  # type: ignore[no-untyped-def]
    for trader, side in ((seller, "SELL"), (buyer, "BUY")):
        service.place_order(trader.user_id, "BTC-USDT", OrderRequest(
            side=side, kind="limit", price=usdt * USDT, quantity=BTC // 100))


def row(order_id: int):  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return conn.execute(select(Order.__table__).where(Order.__table__.c.id == order_id)).one()


def reconciled() -> bool:
    with db.read() as conn:
        return reconcile(conn).ok


def test_exchange_info_lists_the_conditional_types_and_trailing_filter(client, alice) -> None:
    info = client.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"}).json()
    symbol = info["symbols"][0]
    assert {"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"} <= set(
        symbol["orderTypes"])
    assert symbol["ocoAllowed"] and symbol["allowTrailingStop"]
    trailing = next(f for f in symbol["filters"] if f["filterType"] == "TRAILING_DELTA")
    assert trailing == {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10,
                        "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10,
                        "maxTrailingBelowDelta": 2000}


def test_stop_limit_over_the_api(client, alice, bob, carol, alice_api: Signed) -> None:
    trade_at(bob, carol, 30_000)
    # Binance's default answer for a conditional order is ACK; RESULT adds its stopPrice.
    ack = alice_api.call("POST", "/order", {**STOP_LIMIT_SELL, "price": "29300"}).json()
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    cancelled = alice_api.call("DELETE", "/order", {"symbol": "BTCUSDT",
                                                    "orderId": ack["orderId"]}).json()
    assert (cancelled["status"], cancelled["stopPrice"]) == ("CANCELED", "29500.000000")
    placed = alice_api.call("POST", "/order", {**STOP_LIMIT_SELL, "newOrderRespType": "RESULT"},
                            in_body=True)
    assert placed.status_code == 200, placed.json()
    body = placed.json()
    assert (body["status"], body["type"], body["workingTime"], body["stopPrice"]) == (
        "NEW", "STOP_LOSS_LIMIT", -1, "29500.000000")
    got = alice_api.call("GET", "/order", {"symbol": "BTCUSDT", "orderId": body["orderId"]}).json()
    assert (got["stopPrice"], got["isWorking"]) == ("29500.000000", False)
    assert [o["orderId"] for o in alice_api.call("GET", "/openOrders",
                                                 {"symbol": "BTCUSDT"}).json()] == [
        body["orderId"]]
    assert alice.balance("BTC") == (10 * BTC - BTC // 100, BTC // 100)
    # bob's trades move the price through the stop; it triggers and fills against his bid.
    service.place_order(bob.user_id, "BTC-USDT", OrderRequest(
        side="BUY", kind="limit", price=29_400 * USDT, quantity=BTC // 100))
    trade_at(carol, bob, 29_500)
    got = alice_api.call("GET", "/order", {"symbol": "BTCUSDT", "orderId": body["orderId"]}).json()
    assert (got["status"], got["executedQty"], got["type"]) == (
        "FILLED", "0.01000000", "STOP_LOSS_LIMIT")
    assert got["workingTime"] > 0
    assert reconciled()


def test_conditional_refusals_map_to_binance(client, alice, bob, carol, alice_api: Signed) -> None:
    trade_at(bob, carol, 30_000)
    cases = [
        (STOP_LIMIT_SELL | {"stopPrice": "30000"}, -2010, "Order would trigger immediately."),
        (STOP_LIMIT_SELL | {"stopPrice": "", "trailingDelta": "5"}, -1013,
         "Filter failure: TRAILING_DELTA"),
        ({k: v for k, v in STOP_LIMIT_SELL.items() if k != "stopPrice"}, -1102,
         "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!"),
        (STOP_LIMIT_SELL | {"type": "LIMIT"}, -1106,
         "Parameter 'stopPrice' sent when not required."),
        ({"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_LOSS", "quoteOrderQty": "100",
          "stopPrice": "29000"}, -1128, "Combination of optional parameters invalid."),
    ]
    for params, code, msg in cases:
        assert alice_api.call("POST", "/order", params).json() == {"code": code, "msg": msg}, \
            params
    with db.read() as conn:
        assert conn.scalar(select(Order.__table__.c.id).where(
            Order.__table__.c.user_id == alice.user_id)) is None


def test_stop_market_buy_by_quantity_as_binance_sizes_it(client, alice, bob, carol,
                                                        alice_api: Signed) -> None:
    trade_at(bob, carol, 30_000)
    placed = alice_api.call("POST", "/order", {
        "symbol": "BTCUSDT", "side": "BUY", "type": "STOP_LOSS", "quantity": "0.01",
        "stopPrice": "31000", "newOrderRespType": "RESULT"})
    assert placed.status_code == 200, placed.json()
    body = placed.json()
    assert (body["type"], body["origQty"], body["origQuoteOrderQty"], body["stopPrice"]) == (
        "STOP_LOSS", "0.01000000", "0.000000", "31000.000000")
    cap = 310 * USDT * 105 // 100  # 0.01 at the stop, and the 5% margin
    assert alice.balance("USDT") == (1_000_000 * USDT - cap, cap)
    service.place_order(carol.user_id, "BTC-USDT", OrderRequest(
        side="SELL", kind="limit", price=31_050 * USDT, quantity=BTC))
    trade_at(carol, bob, 31_000)
    got = alice_api.call("GET", "/order", {"symbol": "BTCUSDT", "orderId": body["orderId"]}).json()
    assert (got["status"], got["executedQty"], got["cummulativeQuoteQty"],
            got["origQuoteOrderQty"]) == ("FILLED", "0.01000000", "310.500000", "0.000000")
    assert alice.balance("USDT") == (1_000_000 * USDT - 310_500_000, 0)
    assert reconciled()


OCO_SELL = {"symbol": "BTCUSDT", "side": "SELL", "quantity": "0.02",
            "aboveType": "LIMIT_MAKER", "abovePrice": "31000",
            "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "29000", "belowPrice": "28900",
            "belowTimeInForce": "GTC"}


def test_oco_lists_over_the_api(client, alice, bob, carol, alice_api: Signed) -> None:
    trade_at(bob, carol, 30_000)
    placed = alice_api.call("POST", "/orderList/oco", OCO_SELL, in_body=True)
    assert placed.status_code == 200, placed.json()
    assert placed.headers["X-MBX-ORDER-COUNT-10S"] == "2"  # an OCO counts as two orders
    body = placed.json()
    assert (body["contingencyType"], body["listStatusType"], body["listOrderStatus"]) == (
        "OCO", "EXEC_STARTED", "EXECUTING")
    limit_leg, stop_leg = body["orderReports"]
    assert (limit_leg["type"], stop_leg["type"]) == ("LIMIT_MAKER", "STOP_LOSS_LIMIT")
    assert limit_leg["orderListId"] == stop_leg["orderListId"] == body["orderListId"]
    assert alice.balance("BTC") == (10 * BTC - 2 * BTC // 100, 2 * BTC // 100)  # held once
    listed = alice_api.call("GET", "/orderList", {"orderListId": body["orderListId"]}).json()
    assert [o["orderId"] for o in listed["orders"]] == [limit_leg["orderId"],
                                                       stop_leg["orderId"]]
    assert [x["orderListId"] for x in alice_api.call("GET", "/openOrderList").json()] == [
        body["orderListId"]]
    cancelled = alice_api.call("DELETE", "/orderList", {"symbol": "BTCUSDT",
                                                        "orderListId": body["orderListId"]})
    assert cancelled.json()["listOrderStatus"] == "ALL_DONE"
    assert {o["status"] for o in cancelled.json()["orderReports"]} == {"CANCELED"}
    assert alice.balance("BTC") == (10 * BTC, 0)
    assert alice_api.call("GET", "/openOrderList").json() == []
    bad = alice_api.call("POST", "/orderList/oco", OCO_SELL | {"abovePrice": "29990"})
    assert bad.json() == {"code": -2010, "msg": "The relationship of the prices for the orders "
                                                "is not correct."}
    assert reconciled()


def test_an_oco_list_keeps_its_client_id(client, alice, bob, carol, alice_api: Signed) -> None:
    trade_at(bob, carol, 30_000)
    named = OCO_SELL | {"listClientOrderId": "my-bracket-1"}
    body = alice_api.call("POST", "/orderList/oco", named).json()
    assert body["listClientOrderId"] == "my-bracket-1"
    found = alice_api.call("GET", "/orderList", {"origClientOrderId": "my-bracket-1"}).json()
    assert found["orderListId"] == body["orderListId"]
    assert found["listClientOrderId"] == "my-bracket-1"
    again = alice_api.call("POST", "/orderList/oco", named | {"aboveClientOrderId": "a2",
                                                             "belowClientOrderId": "b2"})
    assert again.json() == {"code": -2010, "msg": "Duplicate order sent."}
    assert alice.balance("BTC") == (10 * BTC - 2 * BTC // 100, 2 * BTC // 100)  # one list held
    unnamed = alice_api.call("GET", "/orderList", {"origClientOrderId": "nobody"})
    assert unnamed.json() == {"code": -2011, "msg": "Order list does not exist."}
    cancelled = alice_api.call("DELETE", "/orderList", {"symbol": "BTCUSDT",
                                                        "listClientOrderId": "my-bracket-1"})
    assert cancelled.json()["listOrderStatus"] == "ALL_DONE"
    reused = alice_api.call("POST", "/orderList/oco", named | {"aboveClientOrderId": "a3",
                                                              "belowClientOrderId": "b3"})
    assert reused.status_code == 200 and reused.json()["orderListId"] != body["orderListId"]
    latest = alice_api.call("GET", "/orderList", {"origClientOrderId": "my-bracket-1"}).json()
    assert latest["orderListId"] == reused.json()["orderListId"]  # the live one, not the old
    plain = alice_api.call("POST", "/orderList/oco", OCO_SELL | {
        "aboveClientOrderId": "a4", "belowClientOrderId": "b4", "quantity": "0.01"}).json()
    listed = alice_api.call("GET", "/orderList",
                            {"origClientOrderId": plain["listClientOrderId"]}).json()
    assert plain["listClientOrderId"] == f"oco-{plain['orderListId']}"
    assert listed["orderListId"] == plain["orderListId"]


def test_oco_take_profit_fill_cancels_the_stop(client, alice, bob, carol,
                                               alice_api: Signed) -> None:
    trade_at(bob, carol, 30_000)
    body = alice_api.call("POST", "/orderList/oco", OCO_SELL).json()
    limit_leg, stop_leg = (o["orderId"] for o in body["orders"])
    service.place_order(bob.user_id, "BTC-USDT", OrderRequest(
        side="BUY", kind="limit", price=31_000 * USDT, quantity=BTC // 100))
    assert row(stop_leg).status == "cancelled"
    assert row(limit_leg).status == "partially_filled"
    listed = alice_api.call("GET", "/orderList", {"orderListId": body["orderListId"]}).json()
    assert listed["listStatusType"] == "EXEC_STARTED"
    fills = alice_api.call("GET", "/myTrades", {"symbol": "BTCUSDT"}).json()
    assert [(f["orderId"], f["orderListId"]) for f in fills] == [
        (limit_leg, body["orderListId"])]  # the OCO leg's fill names its list
    assert reconciled()


def test_ccxt_stop_price_sends_a_stop_loss_limit(client, alice, bob, carol) -> None:
    trade_at(bob, carol, 30_000)
    key = new_key(alice)
    with serving() as url:
        host = url.replace("ws://", "http://")
        exchange = ccxt.binance({
            "apiKey": key.api_key, "secret": key.secret,
            "urls": {"api": {"public": host + "/api/v3", "private": host + "/api/v3",
                             "v1": host + "/api/v1", "sapi": host + "/sapi/v1"}},
            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                        "fetchMargins": False},
        })
        exchange.load_markets()
        order = exchange.create_order("BTC/USDT", "limit", "sell", 0.01, 29400,
                                      {"stopPrice": 29500})
        stored = row(int(order["id"]))
        assert (stored.stop_type, stored.kind, stored.stop_price, stored.status) == (
            "STOP_LOSS", "limit", 29_500 * USDT, "pending")
        assert exchange.fetch_order(order["id"], "BTC/USDT")["status"] == "open"
        exchange.cancel_order(order["id"], "BTC/USDT")
        assert row(int(order["id"])).status == "cancelled"
        with pytest.raises(ccxt.InvalidOrder):
            exchange.create_order("BTC/USDT", "limit", "sell", 0.01, 29400,
                                  {"stopPrice": 30000})
    assert reconciled()


async def _until_position(ws) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """The events of one change, up to its `outboundAccountPosition`."""
    seen = []
    while not seen or seen[-1]["e"] != "outboundAccountPosition":
        seen.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
    return seen


async def test_trigger_and_oco_events_on_the_user_data_stream(client, alice, bob, carol,
                                                              alice_api: Signed) -> None:
    await asyncio.to_thread(trade_at, bob, carol, 30_000)
    listen_key = alice_api.client.post("/api/v3/userDataStream",
                                       headers={"X-MBX-APIKEY": alice_api.key}).json()
    with serving() as url:
        async with connect(url + "/ws/" + listen_key["listenKey"]) as ws:
            body = (await asyncio.to_thread(alice_api.call, "POST", "/orderList/oco",
                                            OCO_SELL)).json()
            placed = await _until_position(ws)
            assert [(m["e"], m.get("x"), m.get("o")) for m in placed[:-1]] == [
                ("executionReport", "NEW", "LIMIT_MAKER"),
                ("executionReport", "NEW", "STOP_LOSS_LIMIT"),
                ("listStatus", None, None)]
            assert placed[1]["P"] == "29000.000000" and "W" not in placed[1]
            assert placed[2]["g"] == body["orderListId"] and placed[2]["L"] == "EXECUTING"
            # bob's bid for the triggered stop, then a trade at the stop price.
            await asyncio.to_thread(service.place_order, bob.user_id, "BTC-USDT", OrderRequest(
                side="BUY", kind="limit", price=28_900 * USDT, quantity=2 * BTC // 100))
            await asyncio.to_thread(trade_at, carol, bob, 29_000)
            triggered = await _until_position(ws)
            assert [(m["e"], m.get("x"), m.get("X")) for m in triggered[:-1]] == [
                ("executionReport", "CANCELED", "CANCELED"),
                ("executionReport", "NEW", "NEW"),
                ("executionReport", "TRADE", "FILLED"),
                ("listStatus", None, None)]
            assert triggered[0]["eR"] == "OCO_TRIGGER"
            assert triggered[1]["w"] is False and triggered[1]["W"] > 0
            assert triggered[3]["L"] == "ALL_DONE"
