"""The Orders page without a browser: the view (every market, filters, only the user's rows),
its CSV (exact amounts by asset precision), and the Reflex handlers on a real state tree with
a real session cookie (anonymous and cross-user calls refused, forged ids "not found")."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime

import pytest

from bitchange import clock, db
from bitchange.accounts.sessions import activate_session, start_session
from bitchange.state.orders import OrdersState
from bitchange.trading import service
from bitchange.trading.orders_view import (
    FilterError,
    OrderFilter,
    orders_csv,
    orders_view,
    parse_filter,
    trades_csv,
)
from bitchange.trading.service import OrderRequest
from tests.accounts.test_handlers import state_of
from tests.trading.conftest import BTC, USDT, Trader, make_trader, price, qty

MARKETS = ["BTC-USDT", "ETH-USDT", "ETH-BTC"]


@pytest.fixture
def alice(market) -> Trader:
    return make_trader("alice@example.com", {"BTC": 10 * BTC, "ETH": 10 * BTC,
                                             "USDT": 1_000_000 * USDT})


@pytest.fixture
def bob(market) -> Trader:
    return make_trader("bob@example.com", {"BTC": 10 * BTC, "USDT": 1_000_000 * USDT})


def limit(side: str, at: str, amount: str) -> OrderRequest:
    return OrderRequest(side=side, kind="limit", price=price(at), quantity=qty(amount))


@pytest.fixture
def activity(alice, bob):  # type: ignore[no-untyped-def]
    """Alice: an open BTC buy, an open ETH sell, a cancelled BTC buy, and a sell Bob filled."""
    placed = {
        "btc_open": service.place_order(alice.user_id, "BTC-USDT", limit("BUY", "50000", "0.1")),
        "eth_open": service.place_order(alice.user_id, "ETH-USDT", limit("SELL", "3000", "1")),
        "cancelled": service.place_order(alice.user_id, "BTC-USDT", limit("BUY", "40000", "0.2")),
        "filled": service.place_order(alice.user_id, "BTC-USDT", limit("SELL", "60000", "0.5")),
    }
    service.cancel_order(alice.user_id, placed["cancelled"].order_id)
    service.place_order(bob.user_id, "BTC-USDT", limit("BUY", "60000", "0.5"))
    service.place_order(bob.user_id, "ETH-USDT", limit("BUY", "1000", "2"))  # Bob's, open
    return {name: str(p.order_id) for name, p in placed.items()}


def ids(rows: list[dict[str, str]]) -> list[str]:
    return [r["id"] for r in rows]


def test_the_view_lists_the_users_orders_and_trades_in_every_market(alice, bob, activity):
    view = orders_view(alice.user_id, OrderFilter())
    assert ids(view.open_orders) == [activity["eth_open"], activity["btc_open"]]
    assert [r["market"] for r in view.open_orders] == ["ETH-USDT", "BTC-USDT"]
    assert view.open_orders[0]["price"] == "3,000.00" and view.open_orders[0]["amount"] == "1.0000"
    assert ids(view.history) == [activity[k] for k in ("filled", "cancelled", "eth_open",
                                                       "btc_open")]
    assert [r["status"] for r in view.history] == ["Filled", "Cancelled", "Open", "Open"]
    [trade] = view.trades
    assert (trade["market"], trade["side"], trade["role"], trade["amount"]) == (
        "BTC-USDT", "sell", "maker", "0.5000")
    assert trade["total"] == "30,000.00 USDT"
    # Bob's open ETH order is his alone.
    bobs = orders_view(bob.user_id, OrderFilter())
    assert [r["market"] for r in bobs.open_orders] == ["ETH-USDT"]
    assert not set(ids(bobs.history)) & set(activity.values())
    assert bobs.trades[0]["side"] == "buy" and bobs.trades[0]["role"] == "taker"


def test_filters_by_market_side_status_and_dates(alice, bob, market):
    days = [datetime(2026, 3, d, 12, tzinfo=UTC) for d in (1, 2, 3)]
    placed = []
    for day, (symbol, side) in zip(days, [("BTC-USDT", "BUY"), ("ETH-USDT", "SELL"),
                                          ("BTC-USDT", "SELL")], strict=True):
        with clock.freeze(lambda d=day: d):
            at = "50000" if side == "BUY" else "70000"
            placed.append(str(service.place_order(alice.user_id, symbol,
                                                  limit(side, at, "0.1")).order_id))
    with clock.freeze(lambda: days[2]):
        service.place_order(bob.user_id, "BTC-USDT", limit("BUY", "70000", "0.1"))  # fills #3

    def history(**fields: str) -> list[str]:
        return ids(orders_view(alice.user_id, parse_filter(MARKETS, **fields)).history)

    assert history() == placed[::-1]
    assert history(market="BTC-USDT") == [placed[2], placed[0]]
    assert history(side="SELL") == [placed[2], placed[1]]
    assert history(status="filled") == [placed[2]]
    assert history(status="open") == [placed[1], placed[0]]
    assert history(since="2026-03-02") == [placed[2], placed[1]]
    assert history(until="2026-03-02") == [placed[1], placed[0]]  # the end date counts whole
    assert history(since="2026-03-02", until="2026-03-02") == [placed[1]]
    view = orders_view(alice.user_id, parse_filter(MARKETS, side="BUY"))
    assert view.trades == [] and ids(view.open_orders) == [placed[0]]
    assert len(orders_view(alice.user_id, parse_filter(MARKETS, side="SELL")).trades) == 1


@pytest.mark.parametrize(("fields", "message"), [
    ({"market": "DOGE-USDT"}, "Unknown market"),
    ({"side": "buy'; --"}, "Choose buy, sell or both"),
    ({"status": "partially"}, "Unknown order status"),
    ({"since": "2026-13-01"}, "The start date is not a valid date"),
    ({"since": "\uff12\uff10\uff12\uff16-01-01"}, "The start date must be a date like 2026-01-31"),
    ({"until": "01/02/2026"}, "The end date must be a date like 2026-01-31"),
    ({"since": "2026-03-02", "until": "2026-03-01"}, "The start date is after the end date"),
])
def test_a_bad_filter_is_refused_with_a_clear_message(fields, message):
    with pytest.raises(FilterError, match=f"^{message}$"):
        parse_filter(MARKETS, **fields)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_carries_exact_amounts_by_asset_precision(alice, bob, activity):
    orders = rows(orders_csv(alice.user_id, OrderFilter()))
    assert [r["order_id"] for r in orders] == [activity[k] for k in (
        "filled", "cancelled", "eth_open", "btc_open")]
    filled = orders[0]
    assert filled == {
        "order_id": activity["filled"], "time_utc": filled["time_utc"], "market": "BTC-USDT",
        "side": "SELL", "type": "limit", "time_in_force": "GTC", "price": "60000.000000",
        "amount": "0.50000000", "order_total": "", "filled": "0.50000000",
        "average_price": "60000.000000", "fee": "30.000000", "fee_asset": "USDT",
        "status": "filled"}
    assert orders[2]["market"] == "ETH-USDT" and orders[2]["price"] == "3000.000000"
    [trade] = rows(trades_csv(alice.user_id, OrderFilter()))
    assert trade == {"trade_id": trade["trade_id"], "time_utc": trade["time_utc"],
                     "market": "BTC-USDT", "side": "SELL", "role": "maker",
                     "price": "60000.000000", "amount": "0.50000000", "total": "30000.000000",
                     "fee": "30.000000", "fee_asset": "USDT"}
    [bobs] = rows(trades_csv(bob.user_id, OrderFilter()))
    assert (bobs["side"], bobs["role"], bobs["fee_asset"]) == ("BUY", "taker", "BTC")
    filtered = rows(orders_csv(alice.user_id, parse_filter(MARKETS, status="cancelled")))
    assert [r["order_id"] for r in filtered] == [activity["cancelled"]]


def test_csv_order_total_is_what_an_order_was_sized_by(alice, bob, activity):
    spend = service.place_order(alice.user_id, "BTC-USDT", OrderRequest(
        side="BUY", kind="market", quote_amount=price("100")))
    stop = service.place_order(alice.user_id, "BTC-USDT", OrderRequest(
        side="BUY", kind="market", quantity=qty("0.01"), stop_type="STOP_LOSS",
        stop_price=price("61000")))
    totals = {r["order_id"]: r["order_total"] for r in rows(orders_csv(alice.user_id,
                                                                       OrderFilter()))}
    # A stop-market buy by quantity keeps its spend cap in the same column: not a total.
    assert (totals[str(spend.order_id)], totals[str(stop.order_id)]) == ("100.000000", "")


# --- the handlers ---------------------------------------------------------------------------


def token_for(user_id: int) -> str:
    with db.write() as conn:
        return activate_session(conn, start_session(conn, user_id, ip="127.0.0.1",
                                                    user_agent="pytest"))


def open_ids(user_id: int) -> list[str]:
    return ids(orders_view(user_id, OrderFilter()).open_orders)


def test_handlers_show_and_cancel_only_the_callers_orders(alice, bob, activity):
    state = state_of(OrdersState, token_for(bob.user_id))
    state.load()
    assert state.access == "ok" and [r["market"] for r in state.open_orders] == ["ETH-USDT"]
    before = open_ids(alice.user_id)
    for forged in (activity["btc_open"], "\uff11\uff12", "-1", "99999999999999999999", "", "1e3",
                   "9" * 5000):
        state.cancel_order(forged)
        assert state.error == "Order not found", forged
    assert open_ids(alice.user_id) == before  # Alice's orders were never touched
    state.cancel_all()
    assert state.notice == "1 order cancelled in all markets" and state.open_orders == []
    assert open_ids(alice.user_id) == before

    mine = state_of(OrdersState, token_for(alice.user_id))
    mine.load()
    mine.cancel_order(activity["btc_open"])
    assert mine.error == "" and mine.notice == f"Order #{activity['btc_open']} cancelled"
    assert ids(mine.open_orders) == [activity["eth_open"]]
    assert mine.history[1]["status"] == "Cancelled"
    mine.cancel_order(activity["btc_open"])
    assert mine.error == "The order is already cancelled"


def test_handlers_refuse_anonymous_callers(alice, activity):
    state = state_of(OrdersState)
    state.load()
    assert state.access == "denied" and state.open_orders == []
    before = open_ids(alice.user_id)
    state.cancel_order(activity["btc_open"])
    state.cancel_all()
    assert state.export_orders() is None and state.export_trades() is None
    assert state.access == "denied" and open_ids(alice.user_id) == before


def test_filter_form_and_csv_export_through_the_handlers(alice, activity):
    state = state_of(OrdersState, token_for(alice.user_id))
    state.load()
    state.apply({"market": "BTC-USDT", "side": "all", "status": "all", "since": "",
                 "until": ""})
    assert ids(state.open_orders) == [activity["btc_open"]]
    shown = list(state.history)
    state.apply({"market": "BTC-USDT", "since": "2026-02-30"})
    assert state.error == "The start date is not a valid date"
    assert state.history == shown  # a bad filter changes nothing
    assert state.export_orders() is None and state.error == "The start date is not a valid date"
    state.apply({"market": "all", "status": "cancelled"})
    assert state.error == "" and ids(state.history) == [activity["cancelled"]]
    download = state.export_orders()
    args = {name._js_expr: value._var_value for name, value in download.args}
    assert args["filename"] == "bitchange-orders.csv"
    kind, data = args["url"].split(",", 1)
    assert kind == "data:text/csv;base64"
    assert [r["order_id"] for r in rows(base64.b64decode(data).decode())] == [
        activity["cancelled"]]
