"""The order form's conditional kinds: what the trader types becomes the service's request (a
stop-loss or a take-profit by where the stop lies from the last price), the inline errors, and
the plain-words preview."""

from __future__ import annotations

import pytest

from bitchange import db
from bitchange.trading import service
from bitchange.trading.service import OcoRequest, OrderRequest
from bitchange.trading.views import (
    FormError,
    OrderForm,
    build_request,
    conditional_errors,
    market_view,
    preview,
    private_view,
)
from tests.trading.conftest import price, qty

LAST = price("60000")


@pytest.fixture
def mv(market):  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return market_view(conn, market)


def test_a_stop_limit_sell_below_the_price_is_a_stop_loss(mv) -> None:
    form = OrderForm("SELL", "stop_limit", price="59900", amount="0.5", stop="60000.00")
    request = build_request(form, mv, price("60100"))
    assert (request.stop_type, request.stop_price, request.price, request.quantity) == (
        "STOP_LOSS", price("60000"), price("59900"), qty("0.5"))
    assert preview(form, mv, price("60100")) == (
        "If the last price falls to 60,000.00, sell 0.5000 BTC at 59,900.00")


def test_a_stop_above_the_price_for_a_sell_is_a_take_profit(mv) -> None:
    form = OrderForm("SELL", "stop_market", amount="0.5", stop="61000")
    assert build_request(form, mv, LAST).stop_type == "TAKE_PROFIT"
    assert preview(form, mv, LAST) == (
        "If the last price rises to 61,000.00, sell 0.5000 BTC at market")
    buy = OrderForm("BUY", "stop_market", total="1000", stop="61000")
    request = build_request(buy, mv, LAST)
    assert (request.stop_type, request.quote_amount, request.quantity) == (
        "STOP_LOSS", 1_000 * 10**6, None)
    assert preview(buy, mv, LAST) == (
        "If the last price rises to 61,000.00, buy BTC with 1,000.00 USDT at market")


def test_trailing_in_percent(mv) -> None:
    form = OrderForm("SELL", "trailing", amount="0.1", trail="1.5")
    request = build_request(form, mv, LAST)
    assert (request.trailing_delta, request.stop_price, request.kind) == (150, None, "market")
    assert preview(form, mv, LAST) == (
        "Sell 0.1000 BTC at market when the price falls 1.5% from its highest since then")
    assert conditional_errors(OrderForm("SELL", "trailing", trail="0.05"), mv)[1] == (
        "Trail by 0.1% to 20%")
    with pytest.raises(FormError) as refused:
        build_request(OrderForm("SELL", "trailing", amount="0.1", trail="25"), mv, LAST)
    assert refused.value.field == "trail"


def test_an_oco_sell(mv) -> None:
    form = OrderForm("SELL", "oco", price="61000", amount="0.05", stop="59000",
                     stop_limit="58900")
    request = build_request(form, mv, LAST)
    assert isinstance(request, OcoRequest)
    assert (request.above.price, request.above.post_only, request.below.stop_price,
            request.below.price, request.quantity) == (
        price("61000"), True, price("59000"), price("58900"), qty("0.05"))
    assert preview(form, mv, LAST) == (
        "Sell 0.0500 BTC at 61,000.00; or, if the last price falls to 59,000.00, sell 0.0500 "
        "BTC at 58,900.00. When one runs, the other is cancelled.")


def test_a_stop_off_the_tick_is_said_beside_the_field(mv) -> None:
    errors = conditional_errors(OrderForm("SELL", "stop_limit", stop="59950.005"), mv)
    assert errors[0] == "Stop must be a multiple of 0.01 USDT"


def test_the_chart_marks_pending_triggers(alice, bob) -> None:  # type: ignore[no-untyped-def]
    for trader, side in ((bob, "SELL"), (alice, "BUY")):
        service.place_order(trader.user_id, "BTC-USDT", OrderRequest(
            side=side, kind="limit", price=price("60000"), quantity=qty("0.01")))
    stop = service.place_order(alice.user_id, "BTC-USDT", OrderRequest(
        side="SELL", kind="limit", price=price("58900"), quantity=qty("0.1"),
        stop_type="STOP_LOSS", stop_price=price("59000")))
    trail = service.place_order(alice.user_id, "BTC-USDT", OrderRequest(
        side="SELL", kind="market", quantity=qty("0.1"), stop_type="STOP_LOSS",
        trailing_delta=100))
    view = private_view(alice.user_id, "BTC-USDT")
    assert view is not None
    assert sorted(view.trigger_marks, key=lambda m: m["title"]) == [
        {"price": "59000.000000", "title": f"stop-limit #{stop.order_id}", "side": "sell"},
        {"price": "59400.000000", "title": f"trailing stop #{trail.order_id}", "side": "sell"},
    ]
    assert {r["trigger"] for r in view.open_orders} == {
        "≤ 59,000.00", "trail 1% from 60,000.00"}
    assert {r["status"] for r in view.open_orders} == {"Pending"}
