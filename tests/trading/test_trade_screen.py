"""The trading screen's logic without a browser: view models, the order form, the Reflex
handlers (called on a real state tree with a real session cookie), and the live watcher."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlalchemy import func, select

from bitchange import db
from bitchange.db.models import AdminAuditLog
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from bitchange.trading.tables import Order
from bitchange.trading.views import (
    FormError,
    OrderForm,
    book_rows,
    build_request,
    estimate,
    form_errors,
    fraction_of_available,
    market_snapshot,
    market_view,
    private_view,
)
from tests.livetabs import FakeApp, browser_tab, call, cookie_for, navigate
from tests.trading.conftest import USDT, make_trader, price, qty

SYMBOL = "BTC-USDT"


@pytest.fixture
def mv(market):
    with db.read() as conn:
        return market_view(conn, SYMBOL)


def open_orders_of(user_id: int) -> int:
    orders = Order.__table__
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(orders).where(
            orders.c.user_id == user_id, orders.c.status.in_(service.OPEN_STATUSES)))


def open_orders() -> int:
    orders = Order.__table__
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(orders))


# --- view models ----------------------------------------------------------------------------


def test_book_rows_accumulate_depth_and_put_the_best_ask_next_to_the_spread(mv):
    bids = [(price("59990"), qty("0.5")), (price("59980"), qty("1.5"))]
    asks = [(price("60010"), qty("1")), (price("60020"), qty("1"))]
    bid_rows, ask_rows, spread = book_rows(bids, asks, mv)
    assert [r["price"] for r in ask_rows] == ["60,020.00", "60,010.00"]  # best ask last
    assert [r["total"] for r in bid_rows] == ["0.5000", "2.0000"]
    assert bid_rows[-1]["depth"] == "100%" and ask_rows[-1]["depth"] == "50%"
    assert bid_rows[0]["p"] == "59990.00"  # what a click puts in the price field
    assert spread.startswith("20.00 (")


def test_form_refuses_excess_decimals_and_junk(mv):
    form = OrderForm(side="BUY", kind="limit", price="60000.0000001", amount="0.1")
    with pytest.raises(FormError, match="Price can have at most 6 decimal places"):
        build_request(form, mv)
    with pytest.raises(FormError, match="Amount must be a number"):
        build_request(replace(form, price="60000", amount="abc"), mv)
    request = build_request(replace(form, price="60000.5", amount="0.25", post_only=True), mv)
    assert request == OrderRequest(side="BUY", kind="limit", price=price("60000.5"),
                                   quantity=qty("0.25"), tif="GTC", post_only=True)
    # Post-only only with GTC; a market buy can be sized by what to spend.
    assert build_request(replace(form, price="1", tif="IOC", post_only=True), mv).post_only is False
    spend = build_request(OrderForm(side="BUY", kind="market", total="100", sized_by="total"), mv)
    assert (spend.quote_amount, spend.quantity) == (100 * USDT, None)


def test_form_shows_the_markets_filters_while_typing(mv):
    limit = OrderForm("BUY", "limit", "60000.005", "0.00005")
    assert form_errors(limit, mv) == ("Price must be a multiple of 0.01 USDT",
                                      "Amount must be a multiple of 0.0001 BTC", "")
    assert form_errors(replace(limit, price="60000", amount="0.0001"), mv) == (
        "", "", "Order total must be at least 10.00 USDT")  # 6 USDT
    assert form_errors(replace(limit, price="60000", amount="0.001"), mv) == ("", "", "")
    assert form_errors(replace(limit, price="abc", amount=""), mv) == (
        "Price must be a number: digits 0-9 and at most one dot, e.g. 1.5", "", "")
    spend = OrderForm("BUY", "market", total="5", sized_by="total")
    assert form_errors(spend, mv) == ("", "", "Spend at least 10.00 USDT")
    assert form_errors(replace(spend, total="10"), mv) == ("", "", "")


def test_an_expired_order_says_why(mv):
    from bitchange.state.trade import describe_placed
    from bitchange.trading.service import PlacedOrder

    fok = PlacedOrder(7, "expired", 0, 0, 0, qty("1"), 0, frozenset(), "FOK")
    assert describe_placed(fok, mv, "BUY") == (
        "Order #7 expired: fill or kill: the book could not fill all of it at once")
    ioc = replace(fok, filled=qty("0.5"), expired_because="IOC")
    assert describe_placed(ioc, mv, "SELL") == (
        "Sold 0.5000 BTC; the rest was cancelled (immediate or cancel: what did not trade at "
        "once was cancelled)")


def test_estimate_shows_total_and_worst_case_fee(mv):
    total, fee = estimate(OrderForm("BUY", "limit", "60000", "0.5"), mv)
    assert total == "30000.00"
    assert fee == "≤ 0.00100000 BTC"  # 0.2% taker fee of 0.5 BTC, paid in what a buyer gets
    total, fee = estimate(OrderForm("SELL", "limit", "60000", "0.5"), mv)
    assert fee == "≤ 60.00 USDT"
    assert estimate(OrderForm("SELL", "limit", "", "0.5"), mv) == ("", "")


def test_percent_of_available_rounds_down_to_the_lot(mv):
    form = OrderForm("BUY", "limit", "60000", "")
    assert fraction_of_available(form, 50, 0, 1_000 * USDT, mv).amount == "0.0083"
    assert fraction_of_available(replace(form, side="SELL"), 25, qty("1.23456789"), 0,
                                 mv).amount == "0.3086"
    market_buy = fraction_of_available(replace(form, kind="market"), 100, 0, 1_000 * USDT, mv)
    assert (market_buy.total, market_buy.sized_by) == ("1000.00", "total")
    with pytest.raises(FormError, match="Enter a price first"):
        fraction_of_available(replace(form, price=""), 50, 0, 1_000 * USDT, mv)


def test_public_snapshot_and_private_view_carry_no_other_users_ids(alice, bob):
    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("60000"),
                                                            qty("0.5")))
    service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("60000"),
                                                          qty("0.2")))
    snap = market_snapshot(SYMBOL)
    assert snap is not None and len(snap.trades) == 1 and len(snap.asks) == 1
    assert set(snap.trades[0]) == {"id", "price", "p", "amount", "time", "side"}
    assert snap.asks[0]["amount"] == "0.3000"
    view = private_view(bob.user_id, SYMBOL)
    assert view is not None
    assert view.trades[0]["role"] == "taker" and view.trades[0]["side"] == "buy"
    assert view.balances["base_available"] == "10.19960000"  # 10 + 0.2 - 0.2% fee
    for row in view.trades + view.history + view.open_orders:
        assert not {"user_id", "maker_user_id", "taker_user_id"} & set(row)
    assert private_view(alice.user_id, SYMBOL).open_orders[0]["filled"] == "0.2000"  # type: ignore[union-attr]


# --- handlers on a real state tree ----------------------------------------------------------


def trade_state(tab: str = "tab-1", cookie: str = "", symbol: str = SYMBOL):
    from bitchange.state.trade import TradeState

    return browser_tab(TradeState, tab, f"/trade/{symbol}", cookie)


def watched(live, tab: str):  # type: ignore[no-untyped-def]
    """The trading screen's watch of one tab, if any."""
    from bitchange.state.trade import TradeState

    return live.watches().get((tab, TradeState.get_full_name()))


@pytest.fixture
def no_subscribers():
    from bitchange.state import live

    live._watches.clear()
    yield live
    live._watches.clear()


def test_anonymous_visitor_sees_the_market_and_cannot_place_orders(alice, no_subscribers):
    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("60000"),
                                                            qty("0.5")))
    _, state = trade_state()
    call(state, "load")
    assert state.found and state.market == SYMBOL and len(state.asks) == 1
    assert (state.signed_in, state.can_trade, state.open_orders) == (False, False, [])
    before = open_orders()
    call(state, "set_price", "61000")
    call(state, "set_amount", "0.1")
    call(state, "place_order")  # invoked anyway, as a crafted event would
    assert state.form_error == "Log in to trade"
    call(state, "cancel_all")
    call(state, "cancel_all_markets")
    assert state.form_error == "Log in to trade"
    assert open_orders() == before
    assert watched(no_subscribers, "tab-1").user_id is None


def test_unverified_user_is_told_why_and_the_service_refuses(market, no_subscribers):
    carol = make_trader("carol@example.com", {"USDT": 1_000 * USDT}, verified=False)
    _, state = trade_state(cookie=cookie_for(carol.user_id))
    call(state, "load")
    assert state.signed_in and not state.can_trade
    assert "Confirm your email" in state.blocked_reason
    call(state, "set_price", "100")
    call(state, "set_amount", "0.1")
    call(state, "place_order")
    assert state.form_error == "Verify your email address before trading"
    assert open_orders() == 0


def test_invalid_order_shows_the_error_and_changes_nothing(alice, bob, no_subscribers):
    _, state = trade_state(cookie=cookie_for(bob.user_id))
    call(state, "load")
    balances = dict(state.balances)
    call(state, "set_price", "60000.0000001")
    assert state.price_error == "Price can have at most 6 decimal places"
    call(state, "place_order")
    # Said once, beside its field: not repeated in the form message.
    assert state.price_error == "Price can have at most 6 decimal places"
    assert state.form_error == ""
    call(state, "set_price", "60000.005")  # valid decimals, not on the 0.01 tick
    call(state, "set_amount", "0.1")
    call(state, "place_order")
    assert (state.price_error, state.form_error) == ("Price must be a multiple of 0.01 USDT", "")
    call(state, "set_amount", "100")
    call(state, "set_price", "60000")
    call(state, "place_order")
    assert state.form_error.startswith("Insufficient USDT")
    assert open_orders() == 0 and state.balances == balances


def test_place_and_cancel_through_the_handlers(alice, bob, no_subscribers):
    _, state = trade_state(cookie=cookie_for(bob.user_id))
    call(state, "load")
    call(state, "set_price", "59000")
    call(state, "pick_percent", 100)
    assert state.amount == "16.9491"  # 1,000,000 USDT / 59,000, down to the lot
    call(state, "set_amount", "1")
    call(state, "place_order")
    assert state.form_error == "" and "placed" in state.notice
    assert len(state.open_orders) == 1 and state.bids[0]["price"] == "59,000.00"
    assert state.balances["quote_locked"] == "59,000.00"
    # Another user's order id is "not found", and nothing moves.
    alices = service.place_order(alice.user_id, SYMBOL, OrderRequest(
        "SELL", "limit", price("61000"), qty("1")))
    call(state, "cancel_order", str(alices.order_id))
    assert state.form_error == "Order not found"
    call(state, "cancel_order", "not-a-number")
    assert state.form_error == "Order not found"
    call(state, "cancel_order", state.open_orders[0]["id"])
    assert state.open_orders == [] and state.balances["quote_locked"] == "0.00"
    assert state.history[0]["status"] == "Cancelled"

    # Cancel all: this market's, then everywhere; never another user's.
    for symbol, p in ((SYMBOL, "59000"), (SYMBOL, "58000"), ("ETH-USDT", "2000")):
        service.place_order(bob.user_id, symbol,
                            OrderRequest("BUY", "limit", price(p), qty("0.01")))
    call(state, "cancel_all")
    assert state.notice == "2 orders cancelled in BTC-USDT"
    call(state, "cancel_all_markets")
    assert state.notice == "1 order cancelled in all markets"
    assert open_orders_of(bob.user_id) == 0 and open_orders_of(alice.user_id) == 1


USE_A_DOT = "use a dot for decimals, e.g. 1.5"
NOT_A_NUMBER = "must be a number: digits 0-9 and at most one dot, e.g. 1.5"


def test_a_picked_price_is_the_plain_price_and_a_forged_one_is_checked(alice, bob,
                                                                       no_subscribers):
    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("60000"),
                                                            qty("0.5")))
    service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("60000"),
                                                          qty("0.1")))
    _, state = trade_state(cookie=cookie_for(bob.user_id))
    call(state, "load")
    call(state, "pick_price", state.tape[0]["p"])  # what a click on the trade sends
    assert (state.price, state.price_error) == ("60000.00", "")
    call(state, "pick_price", "1,5")  # forged: was read as 15
    assert state.price == "1,5" and state.price_error == f"Price: {USE_A_DOT}"


def test_a_comma_or_a_foreign_digit_is_refused_never_read_as_another_number(alice, bob,
                                                                           no_subscribers):
    """'1,5' was read as 15 (an order ten times larger), full-width 12 as 12, and '1e999999'
    raised decimal.Overflow (and every later edit of the form with it)."""
    _, state = trade_state(cookie=cookie_for(bob.user_id))
    call(state, "load")
    balances = dict(state.balances)
    call(state, "set_price", "60000")
    call(state, "set_amount", "1,5")
    assert state.amount_error == f"Amount: {USE_A_DOT}" and state.est_total == ""
    call(state, "place_order")
    call(state, "set_amount", "")
    call(state, "set_total", "1,5")  # a limit order sized by its total
    assert (state.amount, state.total_error) == ("", f"Total: {USE_A_DOT}")
    call(state, "place_order")
    call(state, "set_price", "\uff16\uff10\uff10\uff10\uff10")  # full-width 60000
    assert state.price_error == f"Price {NOT_A_NUMBER}"
    call(state, "set_amount", "1e999999")
    assert state.amount_error == f"Amount {NOT_A_NUMBER}"
    call(state, "place_order")
    call(state, "set_kind", "market")
    call(state, "set_total", "1,5")  # a market buy sized by what to spend
    assert state.total_error == f"Total: {USE_A_DOT}"
    call(state, "place_order")
    call(state, "set_total", "1e-999999999")  # was read as 0
    assert state.total_error == f"Total {NOT_A_NUMBER}"
    call(state, "place_order")
    assert open_orders() == 0 and state.balances == balances and state.notice == ""
    # The form still works after all of it.
    call(state, "set_kind", "limit")
    call(state, "set_price", "60000")
    call(state, "set_amount", "0.5")
    assert (state.price_error, state.amount_error, state.est_total) == ("", "", "30000.00")


def test_a_limit_total_below_one_lot_asks_for_the_minimum_total(alice, bob, no_subscribers, mv):
    _, state = trade_state(cookie=cookie_for(bob.user_id))
    call(state, "load")
    call(state, "set_price", "60000")
    call(state, "set_total", "0.01")  # buys less than one lot (0.0001 BTC): no amount
    assert (state.amount, state.total_error) == ("", "Order total must be at least 10.00 USDT")
    call(state, "place_order")
    assert "Amount is required" not in state.form_error and open_orders() == 0
    form = OrderForm("BUY", "limit", "60000", "", "0.01")
    with pytest.raises(FormError, match=r"^Order total must be at least 10\.00 USDT$"):
        build_request(form, mv)
    # A total above the minimum that still buys no lot says so (a market with a 0 minimum).
    free = replace(mv, min_notional=0)
    with pytest.raises(FormError, match=r"^The total buys less than one lot \(0.0001 BTC\)$"):
        build_request(form, free)
    assert form_errors(form, free)[2] == "The total buys less than one lot (0.0001 BTC)"


def test_an_order_id_in_other_digits_or_past_the_columns_is_not_found(bob, no_subscribers):
    placed = service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("100"),
                                                                   qty("1")))
    _, state = trade_state(cookie=cookie_for(bob.user_id))
    call(state, "load")
    full_width = "".join(chr(ord(d) - ord("0") + 0xFF10) for d in str(placed.order_id))
    for order_id in (full_width, "99999999999999999999", f"{placed.order_id}.0"):
        call(state, "cancel_order", order_id)  # int() read the first as the order's id
        assert state.form_error == "Order not found"
    assert open_orders_of(bob.user_id) == 1


def test_unknown_market_is_not_found(no_subscribers, market):
    _, state = trade_state(symbol="NOPE-USDT")
    call(state, "load")
    assert state.found is False and no_subscribers.watches() == {}


# --- the live watcher -----------------------------------------------------------------------


def test_watcher_pushes_book_trades_and_balances_to_subscribed_tabs(alice, bob, no_subscribers):
    from bitchange.state.markets import MarketsState
    from bitchange.state.trade import TradeState

    alice_root, alice_tab = trade_state("tab-alice", cookie_for(alice.user_id))
    bob_root, bob_tab = trade_state("tab-bob", cookie_for(bob.user_id))
    anon_root, anon_tab = trade_state("tab-anon")
    away_root, away_tab = trade_state("tab-away")
    for tab in (alice_tab, bob_tab, anon_tab, away_tab):
        call(tab, "load")
    navigate(away_root, "/markets")
    call(away_root.get_substate(MarketsState.get_full_name().split(".")), "load")
    app = FakeApp({"tab-alice": alice_root, "tab-bob": bob_root, "tab-anon": anon_root,
                   "tab-away": away_root})
    checked: dict = {}
    assert asyncio.run(no_subscribers.tick(app, checked)) == 0  # nothing changed yet
    app.pushed.clear()

    # Trades made elsewhere (another process, the CLI): only the database knows.
    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("60000"),
                                                            qty("0.5")))
    service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("60000"),
                                                          qty("0.2")))
    assert asyncio.run(no_subscribers.tick(app, checked)) == 1
    # The market: one update for all of its tabs, on their sockets (no tab state opened) ...
    ((delta, sids),) = app.event_namespace.emitted
    assert sorted(sids) == ["sid-tab-alice", "sid-tab-anon", "sid-tab-bob"]
    for tab in ("tab-alice", "tab-bob", "tab-anon"):
        shown = app.received(tab, TradeState)
        assert [r["amount"] for r in shown["asks"]] == ["0.3000"]
        assert shown["tape"][0]["price"] == "60,000.00" and shown["ticker"]["last"] == "60,000.00"
        assert shown["candle_tail"] and shown["candle_tail"][-1]["close"] == 60000.0
    # ... in the very form of the delta Reflex sends when a handler shows the same market.
    alice_root._clean()
    alice_tab._apply_market(market_snapshot(SYMBOL))
    name = TradeState.get_full_name()
    assert delta.keys() == {name}
    assert {k: v for k, v in delta[name].items() if not k.startswith("candle_tail")} == (
        alice_root.get_delta()[name])
    # ... and the private views through the tabs of the users the trade touched only (the
    # tab that went to /markets has its markets table refreshed).
    assert sorted(app.pushed) == ["tab-alice", "tab-away", "tab-bob"]
    assert alice_tab.balances["base_locked"] == "0.30000000"
    assert alice_tab.open_orders[0]["filled"] == "0.2000"
    assert bob_tab.my_trades[0]["role"] == "taker"
    assert anon_tab.balances["base_available"] == "—"  # no private data for the anonymous tab
    assert watched(no_subscribers, "tab-away") is None  # navigated away: its watch ended
    assert away_tab.tape == [] and app.received("tab-away", TradeState) == {}

    # A cancel (no trade) still refreshes the owner's private view; never an anonymous tab's
    # (Bob's, whose order changed within the clock margin, may be refreshed too).
    app.pushed.clear()
    service.cancel_all(alice.user_id, SYMBOL)
    asyncio.run(no_subscribers.tick(app, checked))
    assert "tab-alice" in app.pushed and "tab-anon" not in app.pushed
    assert alice_tab.open_orders == [] and app.received("tab-alice", TradeState)["asks"] == []
    assert app.received("tab-bob", TradeState)["asks"] == []
    assert alice_tab.balances["base_locked"] == "0.00000000"
    # Nothing new: no push at all.
    app.pushed.clear()
    emitted = len(app.event_namespace.emitted)
    asyncio.run(no_subscribers.tick(app, checked))
    assert app.pushed == [] and len(app.event_namespace.emitted) == emitted
    # The tab's next load (a reload, a reconnect) shows the market as it is now.
    call(bob_tab, "load")
    assert bob_tab.asks == [] and bob_tab.tape[0]["price"] == "60,000.00"


def test_the_market_goes_only_to_this_processs_open_sockets(alice, bob, no_subscribers):
    from bitchange.state.trade import TradeState

    tabs = {name: trade_state(name) for name in ("tab-here", "tab-closed", "tab-elsewhere")}
    for _, tab in tabs.values():
        call(tab, "load")
    app = FakeApp({name: root for name, (root, _) in tabs.items()})
    app.event_namespace.close("tab-closed")
    app.event_namespace.connect("tab-elsewhere", instance_id="another-worker")  # reconnected
    checked: dict = {}
    app.tick(checked)
    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("60000"),
                                                            qty("0.5")))
    assert app.tick(checked) == []  # no tab state opened: nobody's private view moved
    ((_, sids),) = app.event_namespace.emitted
    assert sids == ["sid-tab-here"]
    assert [r["amount"] for r in app.received("tab-here", TradeState)["asks"]] == ["0.5000"]
    # The closed tab is forgotten; the other worker ran the reconnected tab's on_load and
    # pushes to it from its own registry.
    assert {token for token, _ in no_subscribers.watches()} == {"tab-here"}


def test_a_revoked_session_gets_the_market_and_loses_its_private_view(alice, bob,
                                                                     no_subscribers):
    from bitchange.accounts.sessions import revoke_token
    from bitchange.state.trade import EMPTY_BALANCES, TradeState

    cookie = cookie_for(alice.user_id)
    alice_root, alice_tab = trade_state("tab-alice", cookie)
    call(alice_tab, "load")
    app = FakeApp({"tab-alice": alice_root})
    checked: dict = {}
    app.tick(checked)
    assert alice_tab.signed_in and alice_tab.balances != EMPTY_BALANCES
    with db.write() as conn:
        revoke_token(conn, cookie.split("=", 1)[1])
    service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("59000"),
                                                          qty("0.1")))
    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("59000"),
                                                            qty("0.1")))
    assert app.tick(checked) == ["tab-alice"]  # her trade: her tab's private view is redone
    assert not alice_tab.signed_in and alice_tab.balances == EMPTY_BALANCES
    assert alice_tab.my_trades == [] and alice_tab.open_orders == []
    # The shared update carries the market only, never a private var.
    shown = app.received("tab-alice", TradeState)
    assert shown["tape"][0]["price"] == "59,000.00"
    assert set(shown) <= {"info", "bids", "asks", "spread", "tape", "ticker", "candle_tail"}


def test_a_tab_that_loads_another_market_meanwhile_gets_only_that_one(alice, bob,
                                                                     no_subscribers,
                                                                     monkeypatch):
    from bitchange.state.trade import TradeState

    root, tab = trade_state("tab-1")
    call(tab, "load")
    app = FakeApp({"tab-1": root})
    checked: dict = {}
    app.tick(checked)
    build_update = no_subscribers.build_update

    def then_the_tab_moves(*args):  # type: ignore[no-untyped-def]
        update = build_update(*args)
        navigate(root, "/trade/ETH-USDT")  # while BTC-USDT's update was being built
        call(tab, "load")
        return update

    monkeypatch.setattr(no_subscribers, "build_update", then_the_tab_moves)
    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("60000"),
                                                            qty("0.5")))
    app.tick(checked)
    assert app.received("tab-1", TradeState) == {}
    assert tab.market == "ETH-USDT" and watched(no_subscribers, "tab-1").market == "ETH-USDT"  # type: ignore[union-attr]


def test_a_tab_follows_its_users_balances_moved_elsewhere(alice, bob, no_subscribers):
    from bitchange import ledger

    alice_root, alice_tab = trade_state("tab-alice", cookie_for(alice.user_id))
    bob_root, bob_tab = trade_state("tab-bob", cookie_for(bob.user_id))
    for tab in (alice_tab, bob_tab):
        call(tab, "load")
    app = FakeApp({"tab-alice": alice_root, "tab-bob": bob_root})
    checked: dict = {}
    asyncio.run(no_subscribers.tick(app, checked))
    assert alice_tab.balances["quote_available"] == "1,000,000.00"

    # A trade in another market moves Alice's USDT; BTC-USDT's book did not change.
    carol = make_trader("carol@example.com", {"ETH": 10**8})
    service.place_order(carol.user_id, "ETH-USDT", OrderRequest("SELL", "limit", price("3000"),
                                                                10**8))
    service.place_order(alice.user_id, "ETH-USDT", OrderRequest("BUY", "limit", price("3000"),
                                                                10**8))
    app.pushed.clear()
    assert asyncio.run(no_subscribers.tick(app, checked)) == 0  # no market of a tab moved
    assert app.pushed == ["tab-alice"]  # only the user whose balances moved
    assert alice_tab.balances["quote_available"] == "997,000.00"

    # A deposit is a balance change too; nothing new afterwards means no push.
    with db.write() as conn:
        ledger.credit_deposit(conn, bob.account, "USDT", 5 * USDT)
    app.pushed.clear()
    asyncio.run(no_subscribers.tick(app, checked))
    assert app.pushed == ["tab-bob"]
    assert bob_tab.balances["quote_available"] == "1,000,005.00"
    app.pushed.clear()
    asyncio.run(no_subscribers.tick(app, checked))
    assert app.pushed == []


def test_the_takers_own_chart_follows_their_market_order(alice, bob, no_subscribers):
    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("60000"),
                                                            qty("0.5")))
    bob_root, bob_tab = trade_state("tab-bob", cookie_for(bob.user_id))
    call(bob_tab, "load")
    assert bob_tab.candles == [] and bob_tab.candle_tail == []  # no trade yet
    call(bob_tab, "set_kind", "market")
    call(bob_tab, "set_amount", "0.2")
    call(bob_tab, "place_order")
    assert bob_tab.notice == "Bought 0.2000 BTC"
    # The taker's own chart moves with the trade (its price tag shows the new price) ...
    assert bob_tab.candle_tail[-1]["close"] == 60000.0
    assert bob_tab.ticker["last"] == "60,000.00"
    # ... though the watcher, having nothing new for this tab's market, sends it no market.
    app = FakeApp({"tab-bob": bob_root})
    bob_tab.candle_tail = []
    app.tick({})
    assert watched(no_subscribers, "tab-bob").seq == market_snapshot(SYMBOL).seq  # type: ignore[union-attr]
    assert bob_tab.candle_tail == []
    assert app.event_namespace.emitted == []


def test_the_market_tables_follow_trades_on_the_landing_and_markets_pages(alice, bob,
                                                                          no_subscribers):
    from bitchange.state.markets import MarketsState

    home_root, home = browser_tab(MarketsState, "tab-home", "/")
    markets_root, markets = browser_tab(MarketsState, "tab-markets", "/markets")
    wallet_root, elsewhere = browser_tab(MarketsState, "tab-wallet", "/wallet")  # the top bar
    for state in (home, markets, elsewhere):
        call(state, "load")
    assert {token for token, _ in no_subscribers.watches()} == {"tab-home", "tab-markets"}
    app = FakeApp({"tab-home": home_root, "tab-markets": markets_root,
                   "tab-wallet": wallet_root})
    checked: dict = {}
    app.tick(checked)
    assert app.tick(checked) == []  # nothing moved

    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("60000"),
                                                            qty("0.5")))
    service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("60000"),
                                                          qty("0.2")))
    assert app.tick(checked) == ["tab-home", "tab-markets"]
    for state in (home, markets):
        btc = next(row for row in state.rows if row["symbol"] == SYMBOL)
        assert (btc["last"], btc["volume"]) == ("60,000.00", "0.2000 BTC")
    assert next(row for row in elsewhere.rows if row["symbol"] == SYMBOL)["last"] == "—"

    # A tab that left the page is dropped at the next change.
    navigate(markets_root, "/trade/BTC-USDT")
    service.cancel_all(alice.user_id, SYMBOL)
    assert app.tick(checked) == ["tab-home", "tab-markets"]
    assert {token for token, _ in no_subscribers.watches()} == {"tab-home"}
    assert app.tick(checked) == []


# --- admin markets card ---------------------------------------------------------------------


def test_admin_market_actions_recheck_the_admin_and_are_audited(alice, bob, no_subscribers):
    from bitchange.accounts import totp
    from bitchange.accounts.users import create_user
    from bitchange.state.admin.markets import AdminMarketsState

    with db.write() as conn:
        admin_id = create_user(conn, "root@example.com", "correct horse battery",
                               is_admin=True, verified=True)
        totp.enable_with_secret(conn, admin_id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    import bitchange.bitchange  # noqa: F401

    def admin_state(cookie: str):  # type: ignore[no-untyped-def]
        root = rx.State(_reflex_internal_init=True)
        root.router = RouterData.from_router_data({"token": "adm", "asPath": "/admin",
                                                   "pathname": "/admin",
                                                   "headers": {"cookie": cookie}})
        return root.substates[AdminMarketsState.get_name()]

    # A trader who crafts the event gets nothing done.
    intruder = admin_state(cookie_for(alice.user_id))
    call(intruder, "set_status", SYMBOL, "halted")
    assert intruder.error == "Admins only"
    with db.read() as conn:
        assert market_view(conn, SYMBOL).status == "active"  # type: ignore[union-attr]

    state = admin_state(cookie_for(admin_id))
    call(state, "load")
    assert [r["symbol"] for r in state.rows][:1] == [SYMBOL]
    call(state, "set_status", SYMBOL, "halted")
    assert state.rows[0]["status"] == "halted"
    with pytest.raises(service.TradingError, match="halted"):
        service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("1"),
                                                              qty("100")))
    call(state, "set_status", SYMBOL, "active")
    service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("100"),
                                                          qty("1")))
    call(state, "cancel_market_orders", SYMBOL)
    assert state.notice == "1 open orders in BTC-USDT cancelled"
    call(state, "start_edit", SYMBOL)
    call(state, "save_rules", {"tick": "0.001", "lot": "0.0001", "min_notional": "10",
                               "maker": "5", "taker": "abc"})
    assert state.error == "Taker fee must be a whole number of basis points"
    call(state, "save_rules", {"tick": "0.001", "lot": "0.0001", "min_notional": "10",
                               "maker": "5", "taker": "1001"})
    assert state.error == "Fees must be between 0 and 1000 basis points"
    call(state, "save_rules", {"tick": "0.01", "lot": "0.0001", "min_notional": "0",
                               "maker": "5", "taker": "15"})
    assert state.error == ""
    assert (state.rows[0]["maker"], state.rows[0]["min_notional"]) == ("5", "0.00")
    audit = AdminAuditLog.__table__
    with db.read() as conn:
        actions = list(conn.execute(select(audit.c.action, audit.c.target, audit.c.admin_id)
                                    .order_by(audit.c.id)))
    assert [(a, t) for a, t, _ in actions] == [
        ("market_halt", SYMBOL), ("market_resume", SYMBOL), ("market_cancel_all", SYMBOL),
        ("market_rules", SYMBOL)]
    assert {admin for *_, admin in actions} == {admin_id}


def test_a_field_error_is_said_beside_its_field_only(alice, bob, no_subscribers):
    _, state = trade_state(cookie=cookie_for(bob.user_id))
    call(state, "load")
    call(state, "set_price", "60000")
    call(state, "place_order")  # no amount
    assert (state.amount_error, state.form_error) == ("Amount is required", "")
    call(state, "set_price", "")
    call(state, "pick_percent", 50)  # a share of the balance needs a price
    assert (state.price_error, state.form_error) == ("Enter a price first", "")
    assert open_orders() == 0


def test_a_new_result_replaces_the_old_messages(alice, bob, no_subscribers):
    _, state = trade_state(cookie=cookie_for(bob.user_id))
    call(state, "load")
    call(state, "set_price", "60000")
    call(state, "set_amount", "100")
    call(state, "place_order")
    assert state.form_error.startswith("Insufficient USDT")
    call(state, "set_amount", "0.1")
    call(state, "place_order")  # the success clears the old refusal
    assert state.form_error == "" and "placed" in state.notice
    call(state, "cancel_order", "999999")  # the refusal clears the old success
    assert (state.notice, state.form_error) == ("", "Order not found")
    call(state, "place_order")  # an empty amount: said beside the field
    assert state.amount_error == "Amount is required"
    call(state, "cancel_order", state.open_orders[0]["id"])
    # The cancel's notice, and nothing left over from the refused submit.
    assert state.notice.endswith("cancelled")
    assert (state.form_error, state.amount_error) == ("", "")
