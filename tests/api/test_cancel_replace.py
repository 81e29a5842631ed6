"""POST /api/v3/order/cancelReplace (ccxt's editOrder on spot): the cancel, then the new order,
each through the screen's service path, answered in Binance's shapes: 200 when both succeed,
400 -2022 when nothing was done, 409 -2021 when one half was; the new order's parameters and
filters checked before anything is cancelled."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bitchange import db, ledger
from bitchange.api.limits import limiter
from bitchange.config import reload_settings
from bitchange.trading.tables import Order
from tests.api.conftest import USDT, Signed, make_trader, new_key

BUY = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
       "quantity": "0.01", "price": "30000"}
_orders = Order.__table__


def _statuses() -> dict[int, str]:
    with db.read() as conn:
        return dict(conn.execute(select(_orders.c.id, _orders.c.status)).all())


def _usdt(user_id: int) -> tuple[int, int]:
    with db.read() as conn:
        return ledger.balances_of(conn, ledger.account_for_user(conn, user_id))["USDT"]


@pytest.fixture
def trader(client):  # type: ignore[no-untyped-def]
    return make_trader("carol@example.com", {"USDT": 500 * USDT})


@pytest.fixture
def api(client, trader) -> Signed:
    key = new_key(trader)
    return Signed(client, key.api_key, key.secret)  # type: ignore[arg-type]


def _rested(api: Signed) -> dict:  # type: ignore[type-arg]
    placed = api.call("POST", "/order", {**BUY, "newClientOrderId": "first"}).json()
    assert placed["status"] == "NEW", placed
    return placed


def _replace(api: Signed, **changes: str):  # type: ignore[no-untyped-def]
    return api.call("POST", "/order/cancelReplace",
                    {**BUY, "price": "29000", "cancelReplaceMode": "STOP_ON_FAILURE", **changes})


def test_both_halves_succeed(api, trader) -> None:
    first = _rested(api)
    answer = _replace(api, cancelOrderId=str(first["orderId"]), cancelNewClientOrderId="undo-1",
                      newClientOrderId="second")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["cancelResult"], body["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert body["cancelResponse"]["orderId"] == first["orderId"]
    assert body["cancelResponse"]["status"] == "CANCELED"
    assert body["cancelResponse"]["origClientOrderId"] == "first"
    assert body["cancelResponse"]["clientOrderId"] == "undo-1"
    new = body["newOrderResponse"]
    assert (new["status"], new["price"], new["clientOrderId"]) == ("NEW", "29000.000000", "second")
    assert new["fills"] == []  # a LIMIT answers FULL by default
    assert _statuses() == {first["orderId"]: "cancelled", new["orderId"]: "open"}
    assert _usdt(trader.user_id) == (210 * USDT, 290 * USDT)  # only the new order's hold
    with db.read() as conn:
        assert ledger.reconcile(conn).ok


def test_stop_on_failure_places_nothing_when_the_cancel_fails(api, trader) -> None:
    first = _rested(api)
    answer = _replace(api, cancelOrigClientOrderId="no-such-order")
    assert answer.status_code == 400
    assert answer.json() == {"code": -2022, "msg": "Order cancel-replace failed.", "data": {
        "cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
        "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
        "newOrderResponse": None}}
    assert _statuses() == {first["orderId"]: "open"}


def test_allow_failure_places_the_new_order_anyway(api) -> None:
    answer = _replace(api, cancelOrderId="999999", cancelReplaceMode="ALLOW_FAILURE")
    assert answer.status_code == 409
    body = answer.json()
    assert (body["code"], body["msg"]) == (-2021, "Order cancel-replace partially failed.")
    assert body["data"]["cancelResult"] == "FAILURE"
    assert body["data"]["newOrderResult"] == "SUCCESS"
    placed = body["data"]["newOrderResponse"]["orderId"]
    assert _statuses() == {placed: "open"}


def test_a_new_order_refused_after_the_cancel_is_a_partial_failure(api, trader) -> None:
    first = _rested(api)
    answer = _replace(api, cancelOrderId=str(first["orderId"]), quantity="1")  # 29,000 USDT
    assert answer.status_code == 409
    data = answer.json()["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert data["newOrderResponse"] == {
        "code": -2010, "msg": "Account has insufficient balance for requested action."}
    assert _statuses() == {first["orderId"]: "cancelled"}
    assert _usdt(trader.user_id) == (500 * USDT, 0)


def test_both_failing_under_allow_failure(api) -> None:
    answer = _replace(api, cancelOrderId="999999", cancelReplaceMode="ALLOW_FAILURE",
                      quantity="1")
    assert answer.status_code == 400
    data = answer.json()["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "FAILURE")
    assert _statuses() == {}


@pytest.mark.parametrize(("changes", "code"), [
    ({"price": "29000.0000001"}, -1111),  # too precise: refused as a parameter
    ({"price": "29000.001"}, -1013),  # off the tick: a filter
    ({"price": "0.5"}, -1013),  # below the minimum notional: a filter
    ({"cancelReplaceMode": "SOMETIMES"}, -1130),
    ({"cancelOrderId": ""}, -1102),  # neither order named
    ({"orderRateLimitExceededMode": "CANCEL_ALL"}, -1130),
])
def test_the_new_order_is_checked_before_anything_is_cancelled(api, changes, code) -> None:
    first = _rested(api)
    answer = _replace(api, **{"cancelOrderId": str(first["orderId"]), **changes})
    assert answer.status_code == 400 and answer.json()["code"] == code, answer.json()
    assert "data" not in answer.json()
    assert _statuses() == {first["orderId"]: "open"}


def test_another_users_order_cannot_be_cancelled(client, api) -> None:
    other = make_trader("dave@example.com", {"USDT": 500 * USDT})
    key = new_key(other)
    theirs = _rested(Signed(client, key.api_key, key.secret))  # type: ignore[arg-type]
    answer = _replace(api, cancelOrderId=str(theirs["orderId"]))
    assert answer.status_code == 400 and answer.json()["code"] == -2022
    assert _statuses() == {theirs["orderId"]: "open"}


@pytest.fixture
def one_order_per_10s(monkeypatch, client):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("API_ORDERS_PER_10S", "1")
    reload_settings()
    limiter.cache_clear()
    yield
    monkeypatch.delenv("API_ORDERS_PER_10S")
    reload_settings()
    limiter.cache_clear()


@pytest.mark.parametrize(("mode", "status"), [("STOP_ON_FAILURE", 429), ("ALLOW_FAILURE", 409)])
def test_over_the_order_limit_cancel_only_still_cancels(api, trader, one_order_per_10s,
                                                         mode, status) -> None:
    first = _rested(api)  # the one order these 10 s allow
    # DO_NOTHING (the default): refused as any order over the limit, nothing cancelled.
    refused = _replace(api, cancelOrderId=str(first["orderId"]), cancelReplaceMode=mode)
    assert (refused.status_code, refused.json()) == (429, {
        "code": -1015, "msg": "Too many new orders; current limit is 1 orders per 10 SECOND."})
    assert _statuses() == {first["orderId"]: "open"}
    answer = _replace(api, cancelOrderId=str(first["orderId"]), cancelReplaceMode=mode,
                      orderRateLimitExceededMode="CANCEL_ONLY")
    body = answer.json()
    assert answer.status_code == status, body
    assert (body["code"], body["msg"]) == (-2021, "Order cancel-replace partially failed.")
    data = body["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert data["cancelResponse"]["status"] == "CANCELED"
    assert data["newOrderResponse"] == {
        "code": -1015, "msg": "Too many new orders; current limit is 1 orders per 10 SECOND."}
    assert int(answer.headers["Retry-After"]) >= 1
    assert _statuses() == {first["orderId"]: "cancelled"}
    assert _usdt(trader.user_id) == (500 * USDT, 0)
    # The cancel failing too: nothing done, 429 (STOP_ON_FAILURE) or 400 (ALLOW_FAILURE).
    again = _replace(api, cancelOrderId=str(first["orderId"]), cancelReplaceMode=mode,
                     orderRateLimitExceededMode="CANCEL_ONLY")
    assert again.status_code == (429 if mode == "STOP_ON_FAILURE" else 400)
    assert (again.json()["code"], again.json()["data"]["cancelResult"]) == (-2022, "FAILURE")
