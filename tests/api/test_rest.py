"""The REST API over HTTP against bitchange.web's app: public data, signed trading, and the
security refusals (each with Binance's code, nothing changed, reconcile passing)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import func, select

from bitchange import clock, db
from bitchange.accounts import admin, api_keys
from bitchange.accounts.tables import ApiKey
from bitchange.accounts.users import create_user
from bitchange.db.migrate import alembic_config
from bitchange.ledger import reconcile
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from bitchange.trading.tables import Order, Trade
from tests.api.conftest import BTC, Signed, make_trader, new_key, sign

BINANCE_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
BINANCE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
BINANCE_QUERY = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
                 "&recvWindow=5000&timestamp=1499827319559")
BINANCE_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"

LIMIT_BUY = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "quantity": "0.01", "price": "30000"}


def orders_count() -> int:
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(Order.__table__))


def reconciled() -> bool:
    with db.read() as conn:
        return reconcile(conn).ok


def test_binance_published_hmac_example() -> None:
    caller = api_keys.Caller(1, 1, "hmac", frozenset({"trade"}), BINANCE_SECRET, None, None)
    assert api_keys.is_key_format(BINANCE_KEY)
    assert sign(BINANCE_SECRET, BINANCE_QUERY) == BINANCE_SIGNATURE
    assert caller.signature_valid(BINANCE_QUERY, BINANCE_SIGNATURE)
    assert caller.signature_valid(BINANCE_QUERY, BINANCE_SIGNATURE.upper())
    assert not caller.signature_valid(BINANCE_QUERY.replace("0.1", "0.2"), BINANCE_SIGNATURE)


def test_public_endpoints(client, alice_api, bob) -> None:
    assert client.get("/api/v3/ping").json() == {}
    assert abs(client.get("/api/v3/time").json()["serverTime"] - time.time() * 1000) < 60_000
    info = client.get("/api/v3/exchangeInfo").json()
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    assert btc["status"] == "TRADING" and btc["baseAsset"] == "BTC"
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.010000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00010000"
    assert filters["NOTIONAL"]["minNotional"] == "10.000000"
    assert {r["rateLimitType"] for r in info["rateLimits"]} == {"REQUEST_WEIGHT", "ORDERS"}
    assert len(info["symbols"]) > 1

    def symbols_of(query: str) -> list[str] | dict:
        answer = client.get("/api/v3/exchangeInfo?" + query).json()
        return [s["symbol"] for s in answer["symbols"]] if "symbols" in answer else answer

    assert symbols_of('symbols=["BTCUSDT"]') == symbols_of("symbol=BTCUSDT") == ["BTCUSDT"]
    assert symbols_of('symbols=["NOPE"]') == {"code": -1121, "msg": "Invalid symbol."}
    assert symbols_of('symbols=["BTCUSDT","BTCUSDT"]')["code"] == -1151  # type: ignore[index]
    assert symbols_of("symbolStatus=HALT") == []
    assert "BTCUSDT" in symbols_of("symbolStatus=TRADING")
    assert alice_api.call("POST", "/order", LIMIT_BUY).status_code == 200
    bob_key = new_key(bob)
    bob_api = Signed(client, bob_key.api_key, bob_key.secret)  # type: ignore[arg-type]
    sold = bob_api.call("POST", "/order", {"symbol": "BTCUSDT", "side": "SELL",
                                           "type": "MARKET", "quantity": "0.004"})
    assert sold.json()["status"] == "FILLED", sold.json()
    book = client.get("/api/v3/depth?symbol=BTCUSDT").json()
    assert book["bids"] == [["30000.000000", "0.00600000"]]
    with db.read() as conn:
        seq = conn.scalar(select(func.max(Order.__table__.c.book_seq)))
    assert book["lastUpdateId"] == seq
    trades = client.get("/api/v3/trades?symbol=BTCUSDT").json()
    assert [(t["price"], t["qty"], t["isBuyerMaker"]) for t in trades] == [
        ("30000.000000", "0.00400000", True)]
    agg = client.get("/api/v3/aggTrades?symbol=BTCUSDT").json()
    assert agg[0]["p"] == "30000.000000" and agg[0]["a"] == trades[0]["id"]
    kline = client.get("/api/v3/klines?symbol=BTCUSDT&interval=1m").json()
    assert kline[-1][4] == "30000.000000" and kline[-1][5] == "0.00400000"
    ticker = client.get("/api/v3/ticker/24hr?symbol=BTCUSDT").json()
    assert ticker["lastPrice"] == "30000.000000" and ticker["bidPrice"] == "30000.000000"
    assert ticker["count"] == 1 and ticker["priceChangePercent"] == "0.000"
    mini = client.get("/api/v3/ticker/24hr?symbol=BTCUSDT&type=MINI").json()
    assert set(mini) == {"symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume",
                         "quoteVolume", "openTime", "closeTime", "firstId", "lastId", "count"}
    assert client.get("/api/v3/ticker/24hr?type=FOO").json() == {
        "code": -1139, "msg": "Invalid ticker type."}
    assert client.get("/api/v3/ticker/price?symbol=BTCUSDT").json()["price"] == "30000.000000"
    assert client.get("/api/v3/ticker/bookTicker?symbol=BTCUSDT").json()["bidQty"] == (
        "0.00600000")
    assert client.get("/api/v3/avgPrice?symbol=BTCUSDT").json()["price"] == "30000.000000"
    bad = client.get("/api/v3/depth?symbol=NOPE")
    assert bad.status_code == 400 and bad.json() == {"code": -1121, "msg": "Invalid symbol."}
    assert client.get("/api/v3/klines?symbol=BTCUSDT&interval=7m").json()["code"] == -1120
    assert "X-MBX-USED-WEIGHT-1M" in bad.headers


def test_signed_trading_round_trip(client, alice, alice_api) -> None:
    placed = alice_api.call("POST", "/order", LIMIT_BUY | {"newClientOrderId": "x-mine-1"},
                            in_body=True)
    assert placed.status_code == 200, placed.json()
    body = placed.json()
    assert body["status"] == "NEW" and body["clientOrderId"] == "x-mine-1"
    assert body["fills"] == [] and "X-MBX-ORDER-COUNT-10S" in placed.headers
    assert alice.balance("USDT")[1] == 300 * 10**6  # held by the service
    again = alice_api.call("POST", "/order", LIMIT_BUY | {"newClientOrderId": "x-mine-1"})
    assert again.json() == {"code": -2010, "msg": "Duplicate order sent."}
    got = alice_api.call("GET", "/order", {"symbol": "BTCUSDT",
                                           "origClientOrderId": "x-mine-1"}).json()
    assert got["orderId"] == body["orderId"] and got["origQty"] == "0.01000000"
    assert [o["orderId"] for o in alice_api.call("GET", "/openOrders",
                                                 {"symbol": "BTCUSDT"}).json()] == [
        body["orderId"]]
    account = alice_api.call("GET", "/account").json()
    usdt = next(b for b in account["balances"] if b["asset"] == "USDT")
    assert usdt == {"asset": "USDT", "free": "999700.000000", "locked": "300.000000"}
    cancelled = alice_api.call("DELETE", "/order", {"symbol": "BTCUSDT",
                                                    "orderId": body["orderId"]})
    assert cancelled.json()["status"] == "CANCELED"
    assert alice.balance("USDT") == (1_000_000 * 10**6, 0)
    assert alice_api.call("DELETE", "/order", {"symbol": "BTCUSDT",
                                               "orderId": body["orderId"]}).json() == {
        "code": -2011, "msg": "Unknown order sent."}
    assert [o["status"] for o in alice_api.call("GET", "/allOrders",
                                                {"symbol": "BTCUSDT"}).json()] == ["CANCELED"]
    assert alice_api.call("POST", "/order/test", LIMIT_BUY).json() == {}
    ack = alice_api.call("POST", "/order", LIMIT_BUY | {"newOrderRespType": "ACK"}).json()
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    assert len(alice_api.call("DELETE", "/openOrders", {"symbol": "BTCUSDT"}).json()) == 1
    assert reconciled()


def test_order_refusals_map_to_binance(client, alice_api) -> None:
    cases = [
        (LIMIT_BUY | {"price": "30000.0000001"}, -1111,
         "Parameter 'price' has too much precision."),
        (LIMIT_BUY | {"price": "30000.005"}, -1013, "Filter failure: PRICE_FILTER"),
        (LIMIT_BUY | {"quantity": "0.00015"}, -1013, "Filter failure: LOT_SIZE"),
        (LIMIT_BUY | {"quantity": "0.0001"}, -1013, "Filter failure: NOTIONAL"),
        (LIMIT_BUY | {"quantity": "1000"}, -2010,
         "Account has insufficient balance for requested action."),
        (LIMIT_BUY | {"symbol": "XXXYYY"}, -1121, "Invalid symbol."),
        (LIMIT_BUY | {"side": "HOLD"}, -1117, "Invalid side."),
        (LIMIT_BUY | {"timeInForce": "GTX"}, -1115, "Invalid timeInForce."),
    ]
    for params, code, msg in cases:
        answer = alice_api.call("POST", "/order", params)
        assert answer.json() == {"code": code, "msg": msg}, params
    assert alice_api.call("GET", "/order", {"symbol": "BTCUSDT", "orderId": 999}).json() == {
        "code": -2013, "msg": "Order does not exist."}
    assert orders_count() == 0 and reconciled()


def test_security_refusals(client, alice, alice_api, bob) -> None:
    stale = int(time.time() * 1000) - 6000
    ahead = int(time.time() * 1000) + 5000
    refused = [
        (alice_api.call("POST", "/order", LIMIT_BUY, secret="x" * 64), 400, -1022),
        (alice_api.call("POST", "/order", LIMIT_BUY, timestamp=stale), 400, -1021),
        (alice_api.call("POST", "/order", LIMIT_BUY, timestamp=ahead), 400, -1021),
        (Signed(client, "short", "x").call("POST", "/order", LIMIT_BUY), 401, -2014),
        (Signed(client, "A" * 64, "x").call("POST", "/order", LIMIT_BUY), 401, -2015),
    ]
    read_only = new_key(alice, scopes=("read",))
    refused.append((Signed(client, read_only.api_key, read_only.secret).call(  # type: ignore[arg-type]
        "POST", "/order", LIMIT_BUY), 401, -2015))
    elsewhere = new_key(alice, allowlist="203.0.113.0/24, 2001:db8::/32")
    refused.append((Signed(client, elsewhere.api_key, elsewhere.secret).call(  # type: ignore[arg-type]
        "POST", "/order", LIMIT_BUY), 401, -2015))
    revoked = new_key(alice)
    with db.write() as conn:
        api_keys.revoke(conn, alice.user_id, revoked.key_id)
    refused.append((Signed(client, revoked.api_key, revoked.secret).call(  # type: ignore[arg-type]
        "POST", "/order", LIMIT_BUY), 401, -2015))
    for response, status, code in refused:
        assert (response.status_code, response.json()["code"]) == (status, code), response.json()
    assert orders_count() == 0

    bob_key = new_key(bob)
    bob_api = Signed(client, bob_key.api_key, bob_key.secret)  # type: ignore[arg-type]
    bobs = bob_api.call("POST", "/order", LIMIT_BUY).json()["orderId"]
    assert alice_api.call("GET", "/order", {"symbol": "BTCUSDT", "orderId": bobs}).json()[
        "code"] == -2013
    assert alice_api.call("DELETE", "/order", {"symbol": "BTCUSDT", "orderId": bobs}).json()[
        "code"] == -2011
    assert len(bob_api.call("GET", "/openOrders").json()) == 1

    with db.write() as conn:
        admin_id = create_user(conn, "ops@example.com", "correct horse battery", verified=True)
        admin.freeze(conn, admin_id, bob.user_id, ip="127.0.0.1")
    frozen = bob_api.call("DELETE", "/order", {"symbol": "BTCUSDT", "orderId": bobs})
    assert (frozen.status_code, frozen.json()["code"]) == (401, -2015)
    assert orders_count() == 1 and reconciled()


def test_withdraw_scope_needs_an_allowlist(client, alice) -> None:
    with pytest.raises(api_keys.ApiKeyError, match="allowlist"):
        new_key(alice, scopes=("read", "withdraw"))
    with db.read() as conn:
        assert api_keys.list_keys(conn, alice.user_id) == []
    assert new_key(alice, scopes=("read", "withdraw"), allowlist="198.51.100.7").key_id
    # A withdraw-scoped key whose row lost its allowlist (written around the service) is
    # refused by the API all the same, and nothing changes.
    key = new_key(alice, scopes=("read", "trade"))
    with db.write() as conn:
        conn.execute(ApiKey.__table__.update().where(ApiKey.__table__.c.id == key.key_id)
                     .values(scopes="read,trade,withdraw", ip_allowlist=""))
    api = Signed(client, key.api_key, key.secret)  # type: ignore[arg-type]
    for answer in (api.call("GET", "/account"), api.call("POST", "/order", LIMIT_BUY)):
        assert (answer.status_code, answer.json()) == (401, {
            "code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
    assert orders_count() == 0 and reconciled()


def test_listen_key_lifecycle(client, alice_api) -> None:
    headers = {"X-MBX-APIKEY": alice_api.key}
    key = client.post("/api/v3/userDataStream", headers=headers).json()["listenKey"]
    assert client.post("/api/v3/userDataStream", headers=headers).json()["listenKey"] == key
    assert client.put(f"/api/v3/userDataStream?listenKey={key}", headers=headers).json() == {}
    assert client.delete(f"/api/v3/userDataStream?listenKey={key}", headers=headers).json() == {}
    assert client.put(f"/api/v3/userDataStream?listenKey={key}", headers=headers).json() == {
        "code": -1125, "msg": "This listenKey does not exist."}
    assert client.post("/api/v3/userDataStream").json()["code"] == -2014


def test_two_factor_less_accounts_cannot_create_keys(client) -> None:
    import pytest

    plain = make_trader("plain@example.com", {"BTC": BTC}, two_factor=False)
    with pytest.raises(api_keys.ApiKeyError, match="two-factor"), db.write() as conn:
        api_keys.create_key(conn, plain.user_id, label="bot", kind="hmac", scopes=["read"],
                            code="123456")


def test_lists_page_as_binance(client, alice, alice_api, bob) -> None:
    """Without a from-id or startTime: the most recent (before endTime, if sent), oldest
    first; with one: from there on. depth's limit past 5000 is 5000, not an error."""
    bob_key = new_key(bob)
    bob_api = Signed(client, bob_key.api_key, bob_key.secret)  # type: ignore[arg-type]
    sell = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.01"}
    orders, trades = [], []
    for usdt in ("30000", "30001", "30002"):
        orders.append(alice_api.call("POST", "/order", {**sell, "price": usdt}).json()["orderId"])
        fill = bob_api.call("POST", "/order", {**LIMIT_BUY, "price": usdt}).json()["fills"]
        trades.append(fill[0]["tradeId"])
    later = int(time.time() * 1000) + 1

    def ids(path: str, params: dict, key: str) -> list[int]:
        answer = alice_api.call("GET", path, {"symbol": "BTCUSDT", "limit": 2, **params})
        return [row[key] for row in answer.json()]

    assert ids("/allOrders", {}, "orderId") == orders[1:]
    assert ids("/allOrders", {"endTime": later}, "orderId") == orders[1:]
    assert ids("/allOrders", {"orderId": orders[0]}, "orderId") == orders[:2]
    assert ids("/myTrades", {}, "id") == trades[1:]
    assert ids("/myTrades", {"fromId": trades[0]}, "id") == trades[:2]
    assert [a["f"] for a in client.get("/api/v3/aggTrades", params={
        "symbol": "BTCUSDT", "limit": 2, "endTime": later}).json()] == trades[1:]
    deep = client.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 6000})
    assert deep.status_code == 200 and "lastUpdateId" in deep.json()
    maker = alice_api.call("POST", "/order", {**sell, "type": "LIMIT_MAKER", "price": "31000",
                                              "timeInForce": ""})
    assert "status" not in maker.json() and maker.json()["orderId"]  # ACK by default


def test_parameters_and_time_as_binance_reads_them(client, alice, alice_api) -> None:
    """A name twice in one place is -1101; in both the query string and the body, the query
    string's counts. recvWindow takes three decimals; a timestamp may be in microseconds."""
    key, secret = alice_api.key, alice_api.secret
    stamp = int(time.time() * 1000)

    def post(query: str, body: str = ""):  # type: ignore[no-untyped-def]
        signed = query + "&signature=" + sign(secret, query + body)
        return client.post("/api/v3/order/test?" + signed, content=body, headers={
            "X-MBX-APIKEY": key, "Content-Type": "application/x-www-form-urlencoded"})

    base = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=30000"
    assert post(f"{base}&side=SELL&timestamp={stamp}").json()["code"] == -1101
    # The body's bad side is overridden by the query string's BUY.
    assert post(f"{base}&timestamp={stamp}", "side=SIDEWAYS").json() == {}
    assert post(f"side=SIDEWAYS&timestamp={stamp}", base).json()["code"] == -1117
    assert post(f"{base}&recvWindow=6000.346&timestamp={stamp}").json() == {}
    assert post(f"{base}&recvWindow=6000.3467&timestamp={stamp}").json()["code"] == -1100
    assert post(f"{base}&recvWindow=60000.001&timestamp={stamp}").json()["code"] == -1130
    assert post(f"{base}&timestamp={stamp * 1000 + 123}").json() == {}
    assert post(f"{base}&timestamp={(stamp - 6000) * 1000}").json()["code"] == -1021
    assert orders_count() == 0


def test_cancel_restrictions_and_icebergs(client, alice, alice_api) -> None:
    placed = alice_api.call("POST", "/order", LIMIT_BUY).json()["orderId"]
    order = {"symbol": "BTCUSDT", "orderId": placed}
    assert alice_api.call("DELETE", "/order", {**order, "cancelRestrictions": "SOMETIMES"}
                          ).json()["code"] == -1145
    assert alice_api.call("DELETE", "/order", {
        **order, "cancelRestrictions": "ONLY_PARTIALLY_FILLED"}).json() == {
        "code": -2011, "msg": "Order was not canceled due to cancel restrictions."}
    assert alice_api.call("GET", "/order", order).json()["status"] == "NEW"  # still there
    assert alice_api.call("DELETE", "/order", {**order, "cancelRestrictions": "ONLY_NEW"}
                          ).json()["status"] == "CANCELED"
    assert alice_api.call("POST", "/order", {**LIMIT_BUY, "icebergQty": "0.001"}).json() == {
        "code": -2010, "msg": "Iceberg orders are not supported for this symbol."}
    assert orders_count() == 1 and reconciled()


def test_order_test_refuses_what_placing_would(client, alice, alice_api) -> None:
    """order/test runs the filters and the book's checks; it places nothing."""
    assert alice_api.call("POST", "/order", {**LIMIT_BUY, "price": "29000"}).status_code == 200
    refused = {
        "0.00015": (-1013, "Filter failure: LOT_SIZE"),
        "0.0001": (-1013, "Filter failure: NOTIONAL"),
    }
    for quantity, (code, msg) in refused.items():
        assert alice_api.call("POST", "/order/test", {**LIMIT_BUY, "quantity": quantity}
                              ).json() == {"code": code, "msg": msg}
    maker = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT_MAKER", "quantity": "0.01",
             "price": "28000"}  # under alice's own bid: it would take
    assert alice_api.call("POST", "/order/test", maker).json() == {
        "code": -2010, "msg": "Order would immediately match and take."}
    assert alice_api.call("POST", "/order/test", {**maker, "price": "31000"}).json() == {}
    assert orders_count() == 1 and reconciled()


def test_a_self_trade_prevented_order_is_expired_in_match(client, alice, alice_api) -> None:
    """Binance's status for an order that self-trade prevention ended, on placement and on
    every later query; the maker, expired by EXPIRE_MAKER, too."""
    sell = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.01", "price": "30000"}
    resting = alice_api.call("POST", "/order", sell).json()["orderId"]
    taker = alice_api.call("POST", "/order", LIMIT_BUY).json()
    assert taker["status"] == "EXPIRED_IN_MATCH" and taker["fills"] == []
    queried = alice_api.call("GET", "/order", {"symbol": "BTCUSDT", "orderId": taker["orderId"]})
    assert queried.json()["status"] == "EXPIRED_IN_MATCH"
    assert alice_api.call("GET", "/order", {"symbol": "BTCUSDT", "orderId": resting}).json()[
        "status"] == "NEW"  # EXPIRE_TAKER left the maker
    maker_ended = alice_api.call("POST", "/order", {**LIMIT_BUY,
                                                    "selfTradePreventionMode": "EXPIRE_MAKER"})
    assert maker_ended.json()["status"] == "NEW"  # rests, the maker gone
    statuses = {o["orderId"]: o["status"] for o in alice_api.call(
        "GET", "/allOrders", {"symbol": "BTCUSDT"}).json()}
    assert statuses[resting] == "EXPIRED_IN_MATCH"
    assert reconciled()


def _klines(client, interval: str) -> list[list]:  # type: ignore[type-arg]
    return client.get(f"/api/v3/klines?symbol=BTCUSDT&interval={interval}").json()


def test_klines_count_trades_and_taker_buys_and_survive_the_backfill(client, alice_api,
                                                                      bob) -> None:
    bob_key = new_key(bob)
    bob_api = Signed(client, bob_key.api_key, bob_key.secret)  # type: ignore[arg-type]
    assert alice_api.call("POST", "/order", LIMIT_BUY).status_code == 200
    assert bob_api.call("POST", "/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET",
                                           "quantity": "0.004"}).status_code == 200  # taker sells
    assert bob_api.call("POST", "/order", {**LIMIT_BUY, "side": "SELL", "quantity": "0.002",
                                           "price": "30001"}).status_code == 200
    bought = alice_api.call("POST", "/order", {**LIMIT_BUY, "quantity": "0.002", "price": "30001",
                                               "timeInForce": "IOC"})  # taker buys
    assert bought.json()["status"] == "FILLED"
    trades = Trade.__table__.c
    with db.read() as conn:
        count, buys, buy_quote = conn.execute(select(
            func.count(), func.sum(trades.quantity).filter(trades.taker_side == "BUY"),
            func.sum(trades.notional).filter(trades.taker_side == "BUY"))).one()
    assert (count, buys, buy_quote) == (2, 200_000, 60_002_000)  # 0.002 BTC for 60.002 USDT
    for interval in ("1m", "1d"):
        candles = _klines(client, interval)
        assert sum(c[8] for c in candles) == 2
        assert sum(Decimal(c[9]) for c in candles) == Decimal("0.002")
        assert sum(Decimal(c[10]) for c in candles) == Decimal("60.002")
    before = [_klines(client, i) for i in ("1m", "1h", "1d")]
    # The migration that adds the counts fills them in from the trades already recorded.
    cfg = alembic_config()
    with db.get_engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0016")
    with db.get_engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")
    assert [_klines(client, i) for i in ("1m", "1h", "1d")] == before


def _trade_at(moment: datetime, price: int, buyer: int, seller: int) -> None:
    """One trade of 0.001 BTC at `price` USDT, the clock set to `moment`."""
    with clock.freeze(lambda: moment):
        service.place_order(buyer, "BTC-USDT", OrderRequest(
            "BUY", "limit", price=price * 10**6, quantity=100_000, tif="GTC"))
        service.place_order(seller, "BTC-USDT", OrderRequest(
            "SELL", "limit", price=price * 10**6, quantity=100_000, tif="IOC"))


def _ms(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp() * 1000)


def test_klines_in_a_time_zone_add_up_the_candles_of_its_own_boundaries(client, alice,
                                                                         bob) -> None:
    for moment, price in ((datetime(2026, 1, 1, 15, 30, tzinfo=UTC), 30000),
                          (datetime(2026, 1, 1, 17, 0, tzinfo=UTC), 31000),
                          (datetime(2026, 1, 2, 3, 0, tzinfo=UTC), 32000)):
        _trade_at(moment, price, alice.user_id, bob.user_id)

    def days(path: str, zone: str | None = None) -> list[tuple]:  # type: ignore[type-arg]
        query = f"/api/v3/{path}?symbol=BTCUSDT&interval=1d"
        answer = client.get(query + (f"&timeZone={zone}" if zone else "")).json()
        return [(k[0], k[1], k[4], k[8], k[6]) for k in answer]

    day = 86_400_000
    assert days("klines") == [  # UTC days: the first two trades on the 1st
        (_ms(2026, 1, 1), "30000.000000", "31000.000000", 2, _ms(2026, 1, 1) + day - 1),
        (_ms(2026, 1, 2), "32000.000000", "32000.000000", 1, _ms(2026, 1, 2) + day - 1)]
    plus_eight = [  # in UTC+8 the 17:00 UTC trade is on the 2nd: days start at 16:00 UTC
        (_ms(2025, 12, 31, 16), "30000.000000", "30000.000000", 1, _ms(2026, 1, 1, 16) - 1),
        (_ms(2026, 1, 1, 16), "31000.000000", "32000.000000", 2, _ms(2026, 1, 2, 16) - 1)]
    assert days("klines", "8") == days("klines", "%2B08:00") == days("uiKlines", "8:00") \
        == days("klines", "+8") == plus_eight  # an unencoded "+" arrives as a space
    assert days("klines", "-1:00")[0][0] == _ms(2026, 1, 1, 1)  # days start at 01:00 UTC
    assert days("klines", "0") == days("klines")
    hours = client.get("/api/v3/klines?symbol=BTCUSDT&interval=1h&timeZone=5:45").json()
    assert [k[0] for k in hours] == [_ms(2026, 1, 1, 15, 15), _ms(2026, 1, 1, 16, 15),
                                     _ms(2026, 1, 2, 2, 15)]  # from the 15-minute candles
    since = client.get("/api/v3/klines?symbol=BTCUSDT&interval=1d&timeZone=8&startTime="
                       f"{_ms(2026, 1, 1, 17)}").json()
    assert [k[0] for k in since] == [_ms(2026, 1, 1, 16)]  # the day holding startTime on
    for bad in ("15:00", "-13", "8:60", "UTC"):
        refused = client.get(f"/api/v3/klines?symbol=BTCUSDT&interval=1d&timeZone={bad}")
        assert refused.status_code == 400 and refused.json()["code"] == -1130, bad


def test_historical_trades_from_an_id(client, alice, bob) -> None:
    for price in (30000, 30001, 30002):
        _trade_at(datetime.now(UTC), price, alice.user_id, bob.user_id)
    recent = client.get("/api/v3/trades?symbol=BTCUSDT").json()
    ids = [t["id"] for t in recent]
    assert len(ids) == 3
    older = client.get(f"/api/v3/historicalTrades?symbol=BTCUSDT&fromId={ids[1]}").json()
    assert [(t["id"], t["price"]) for t in older] == [(ids[1], "30001.000000"),
                                                      (ids[2], "30002.000000")]
    one = client.get(f"/api/v3/historicalTrades?symbol=BTCUSDT&fromId={ids[0]}&limit=1").json()
    assert [t["id"] for t in one] == [ids[0]]
    assert client.get("/api/v3/historicalTrades?symbol=BTCUSDT").json() == recent


def test_rolling_window_ticker(client, alice, bob) -> None:
    for moment, price in ((datetime(2026, 3, 1, 10, 0, tzinfo=UTC), 30000),
                          (datetime(2026, 3, 1, 10, 30, tzinfo=UTC), 31000),
                          (datetime(2026, 3, 1, 11, 20, tzinfo=UTC), 32000)):
        _trade_at(moment, price, alice.user_id, bob.user_id)
    with db.read() as conn:
        ids = list(conn.scalars(select(Trade.__table__.c.id).order_by(Trade.__table__.c.id)))

    def ticker(query: str):  # type: ignore[no-untyped-def]
        with clock.freeze(lambda: datetime(2026, 3, 1, 11, 45, 30, tzinfo=UTC)):
            return client.get("/api/v3/ticker?" + query)

    hour = ticker("symbol=BTCUSDT&windowSize=1h").json()  # from 10:45:00, the minute's start
    assert (hour["openTime"], hour["closeTime"]) == (_ms(2026, 3, 1, 10, 45),
                                                      _ms(2026, 3, 1, 11, 45, 30))
    assert (hour["count"], hour["firstId"], hour["lastId"]) == (1, ids[2], ids[2])
    assert (hour["openPrice"], hour["lastPrice"], hour["priceChange"]) == (
        "32000.000000", "32000.000000", "0.000000")
    both = ticker('symbols=["BTCUSDT"]&windowSize=2h').json()
    assert len(both) == 1 and both[0]["count"] == 3 and both[0]["firstId"] == ids[0]
    assert (both[0]["openPrice"], both[0]["highPrice"], both[0]["lowPrice"]) == (
        "30000.000000", "32000.000000", "30000.000000")
    assert both[0]["priceChange"] == "2000.000000" and both[0]["priceChangePercent"] == "6.666"
    assert both[0]["weightedAvgPrice"] == "31000.000000" and both[0]["volume"] == "0.00300000"
    assert ticker("symbol=BTCUSDT").json()["count"] == 3  # the default window is a day
    mini = ticker("symbol=BTCUSDT&type=MINI").json()
    assert set(mini) == {"symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume",
                         "quoteVolume", "openTime", "closeTime", "firstId", "lastId", "count"}
    quiet = ticker("symbol=ETHUSDT&windowSize=1m").json()
    assert (quiet["count"], quiet["firstId"], quiet["lastPrice"]) == (0, -1, "0.000000")
    for bad in ("90m", "60m", "24h", "8d", "1d2h", "0d", "1w"):
        refused = ticker(f"symbol=BTCUSDT&windowSize={bad}")
        assert refused.status_code == 400 and refused.json()["code"] == -1130, bad
    assert ticker("windowSize=1h").json()["code"] == -1102


def test_market_sell_by_quote_order_qty_receives_at_most_the_total(client, alice, alice_api,
                                                                   bob) -> None:
    sell = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quoteOrderQty": "90"}
    assert alice_api.call("POST", "/order", sell).json() == {
        "code": -2010, "msg": "Order book liquidity is less than symbol minimum quantity."}
    for price in ("30000", "29990"):
        service.place_order(bob.user_id, "BTC-USDT", OrderRequest(
            "BUY", "limit", price=int(price) * 10**6, quantity=200_000))
    btc_before = alice.balance("BTC")[0]
    placed = alice_api.call("POST", "/order", sell)
    body = placed.json()
    assert placed.status_code == 200, body
    # 0.002 at 30,000 (60 USDT), then what 30 USDT more buys at 29,990 in whole lots: 0.001.
    assert (body["status"], body["origQty"], body["executedQty"], body["cummulativeQuoteQty"],
            body["origQuoteOrderQty"]) == ("FILLED", "0.00300000", "0.00300000", "89.990000",
                                           "90.000000")
    assert [(f["price"], f["qty"]) for f in body["fills"]] == [
        ("30000.000000", "0.00200000"), ("29990.000000", "0.00100000")]
    with db.read() as conn:
        row = conn.execute(select(Order.__table__).where(
            Order.__table__.c.id == body["orderId"])).one()
    assert (row.quantity, row.quote_amount, row.filled_quote, row.held_amount) == (
        300_000, 90 * 10**6, 89_990_000, 0)
    assert alice.balance("BTC") == (btc_before - 300_000, 0)
    fetched = alice_api.call("GET", "/order", {"symbol": "BTCUSDT", "orderId": body["orderId"]})
    assert fetched.json()["origQuoteOrderQty"] == "90.000000"
    # A total below one lot at the best bid, below the minimum, or on a stop: refused.
    service.place_order(bob.user_id, "BTC-USDT", OrderRequest(
        "BUY", "limit", price=150_000 * 10**6, quantity=10_000))
    count = orders_count()
    refusals = [(sell | {"quoteOrderQty": "12"}, -1013, "Filter failure: LOT_SIZE"),
                (sell | {"quoteOrderQty": "9.99"}, -1013, "Filter failure: NOTIONAL"),
                (sell | {"quoteOrderQty": "100", "quantity": "0.001"}, -1102,
                 "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"),
                (sell | {"type": "STOP_LOSS", "stopPrice": "20000"}, -1128,
                 "Combination of optional parameters invalid.")]
    for params, code, msg in refusals:
        assert alice_api.call("POST", "/order", params).json() == {"code": code, "msg": msg}
    assert orders_count() == count and reconciled()


def test_symbol_status_filters_the_market_data_as_binance(client) -> None:
    service.set_market_status("ETH-USDT", "halted")

    def get(path: str, query: str):  # type: ignore[no-untyped-def]
        return client.get(f"/api/v3/{path}?{query}").json()

    for path in ("ticker/24hr", "ticker/price", "ticker/bookTicker"):
        halted = get(path, "symbolStatus=HALT")
        assert [t["symbol"] for t in halted] == ["ETHUSDT"], path
        trading = {t["symbol"] for t in get(path, "symbolStatus=TRADING")}
        assert trading == {"BTCUSDT", "ETHBTC"}, path
        # Of a list, those without the status are left out; one market alone must have it.
        assert [t["symbol"] for t in get(path, 'symbols=["BTCUSDT","ETHUSDT"]'
                                                 "&symbolStatus=TRADING")] == ["BTCUSDT"]
        assert get(path, "symbol=ETHUSDT&symbolStatus=TRADING") == {
            "code": -1220, "msg": "The symbol's status does not match the requested symbolStatus."}
        assert get(path, "symbol=ETHUSDT&symbolStatus=HALT")["symbol"] == "ETHUSDT"
        assert get(path, "symbolStatus=CLOSED") == {
            "code": -1130, "msg": "Data sent for parameter 'symbolStatus' is not valid."}
    assert [t["symbol"] for t in get("ticker", 'symbols=["BTCUSDT","ETHUSDT"]'
                                                "&symbolStatus=HALT")] == ["ETHUSDT"]
    assert get("depth", "symbol=ETHUSDT&symbolStatus=TRADING")["code"] == -1220
    assert "lastUpdateId" in get("depth", "symbol=ETHUSDT&symbolStatus=HALT")
    assert [s["symbol"] for s in get("exchangeInfo", "symbolStatus=HALT")["symbols"]] == [
        "ETHUSDT"]
    assert get("exchangeInfo", "symbol=ETHUSDT&symbolStatus=HALT") == {
        "code": -1128, "msg": "Combination of optional parameters invalid."}


def test_commission_rates_and_the_sapi_endpoints_ccxt_calls(client, alice, alice_api) -> None:
    rates = {"maker": "0.00100000", "taker": "0.00200000", "buyer": "0.00000000",
             "seller": "0.00000000"}  # the reference markets' 10 and 20 bps
    zero = dict.fromkeys(rates, "0.00000000")
    assert alice_api.call("GET", "/account/commission", {"symbol": "BTCUSDT"}).json() == {
        "symbol": "BTCUSDT", "standardCommission": rates, "specialCommission": zero,
        "taxCommission": zero, "discount": {"enabledForAccount": False, "enabledForSymbol": False,
                                            "discountAsset": "", "discount": "0.00000000"}}
    assert alice_api.call("GET", "/account/commission").json()["code"] == -1102
    assert alice_api.call("GET", "/account").json()["commissionRates"] == rates
    assert client.get("/sapi/v1/system/status").json() == {"status": 0, "msg": "normal"}
    sapi = Signed(client, alice_api.key, alice_api.secret, prefix="/sapi/v1")
    fees = sapi.call("GET", "/asset/tradeFee").json()
    assert {f["symbol"] for f in fees} == {"BTCUSDT", "ETHUSDT", "ETHBTC"}
    assert sapi.call("GET", "/asset/tradeFee", {"symbol": "ETHBTC"}).json() == [
        {"symbol": "ETHBTC", "makerCommission": "0.00100000", "takerCommission": "0.00200000"}]
    unsigned = client.get("/sapi/v1/asset/tradeFee", headers={"X-MBX-APIKEY": alice_api.key})
    assert unsigned.status_code == 400 and unsigned.json()["code"] == -1102
    assert sapi.call("GET", "/asset/tradeFee", {"symbol": "NOPE"}).json() == {
        "code": -1121, "msg": "Invalid symbol."}
