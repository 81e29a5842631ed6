"""Conditional orders through the service: holds at acceptance and releases exact to the minor
unit, triggers settled in the triggering trade's transaction, OCO lists, cascades, halts,
restarts. The books are checked (reconcile, holds) after every step."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bitchange import db
from bitchange.engine import fee_for
from bitchange.trading import conditional, service
from bitchange.trading.service import OcoRequest, OrderRequest, TradingError
from bitchange.trading.tables import MarketSequence, Order
from tests.trading.conftest import BTC, USDT, Trader, assert_books_sound, make_trader, price, qty

SYMBOL = "BTC-USDT"
TAKER_BPS, MAKER_BPS = 20, 10
_orders = Order.__table__


@pytest.fixture
def carol(market) -> Trader:
    return make_trader("carol@example.com", {"BTC": 10 * BTC, "USDT": 1_000_000 * USDT})


@pytest.fixture
def dave(market) -> Trader:
    return make_trader("dave@example.com", {"BTC": 10 * BTC, "USDT": 1_000_000 * USDT})


def place(trader: Trader, **fields) -> service.PlacedOrder:  # type: ignore[no-untyped-def]
    return service.place_order(trader.user_id, SYMBOL, OrderRequest(**fields))


def limit(trader: Trader, side: str, at: str, amount: str) -> service.PlacedOrder:
    return place(trader, side=side, kind="limit", price=price(at), quantity=qty(amount))


def trade_at(seller: Trader, buyer: Trader, at: str, amount: str = "0.01"):  # type: ignore[no-untyped-def]
    limit(seller, "SELL", at, amount)
    return limit(buyer, "BUY", at, amount)


def row(order_id: int):  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return conn.execute(select(_orders).where(_orders.c.id == order_id)).one()


def stop_loss_sell(trader: Trader, stop: str, amount: str, at: str | None = None,
                   **extra) -> service.PlacedOrder:  # type: ignore[no-untyped-def]
    return place(trader, side="SELL", kind="limit" if at else "market",
                 price=price(at) if at else None, quantity=qty(amount), stop_type="STOP_LOSS",
                 stop_price=price(stop), **extra)


def test_stop_limit_sell_holds_its_quantity_and_cancel_releases_it(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    placed = stop_loss_sell(alice, "59950", "0.5", at="59900")
    assert placed.status == "pending"
    assert alice.balance("BTC") == (10 * BTC - qty("0.5"), qty("0.5"))
    assert row(placed.order_id).held_amount == qty("0.5")
    assert_books_sound()
    service.cancel_order(alice.user_id, placed.order_id)
    assert alice.balance("BTC") == (10 * BTC, 0)
    assert row(placed.order_id).status == "cancelled"
    assert_books_sound()


def test_stop_limit_buy_holds_like_its_limit(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    place(alice, side="BUY", kind="limit", price=price("60100.5"), quantity=qty("0.3"),
          stop_type="STOP_LOSS", stop_price=price("60050"))
    hold = price("60100.5") * qty("0.3") // BTC
    assert alice.balance("USDT") == (1_000_000 * USDT - hold, hold)
    assert_books_sound()


def test_a_stop_limit_triggers_and_fills_in_the_triggering_transaction(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    stop = stop_loss_sell(alice, "59950", "0.5", at="59900")
    limit(dave, "BUY", "59900", "0.5")  # what the triggered sell will meet
    limit(dave, "BUY", "59950", "0.01")
    result = limit(bob, "SELL", "59950", "0.01")  # moves the last price to the stop
    assert result.triggered == (stop.order_id,)
    assert alice.user_id in result.affected_users
    stored = row(stop.order_id)
    assert (stored.status, stored.filled_quantity, stored.held_amount) == ("filled", qty("0.5"), 0)
    assert stored.triggered_at is not None
    notional = price("59900") * qty("0.5") // BTC
    assert alice.balance("BTC") == (10 * BTC - qty("0.5"), 0)
    assert alice.balance("USDT") == (1_000_000 * USDT + notional - fee_for(notional, TAKER_BPS),
                                     0)
    assert_books_sound()


def test_a_triggered_stop_market_on_an_empty_book_expires_and_releases(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    stop = stop_loss_sell(alice, "59950", "0.5")
    assert alice.balance("BTC") == (10 * BTC - qty("0.5"), qty("0.5"))
    result = trade_at(bob, dave, "59950")
    assert result.triggered == (stop.order_id,)
    stored = row(stop.order_id)
    assert (stored.status, stored.expire_reason, stored.held_amount) == (
        "expired", "MARKET_NO_LIQUIDITY", 0)
    assert alice.balance("BTC") == (10 * BTC, 0)
    assert_books_sound()


def test_stop_market_buy_by_quote_holds_its_budget(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    budget = 1_000 * USDT
    stop = place(alice, side="BUY", kind="market", quote_amount=budget, stop_type="STOP_LOSS",
                 stop_price=price("60100"))
    assert alice.balance("USDT") == (1_000_000 * USDT - budget, budget)
    limit(bob, "SELL", "60200", "1")  # the asks the triggered buy takes
    result = trade_at(bob, dave, "60100")
    assert result.triggered == (stop.order_id,)
    stored = row(stop.order_id)
    bought = budget * BTC // price("60200") // 10_000 * 10_000  # whole lots
    spent = price("60200") * bought // BTC
    assert (stored.status, stored.filled_quantity, stored.filled_quote) == (
        "filled", bought, spent)
    assert alice.balance("USDT") == (1_000_000 * USDT - spent, 0)
    assert alice.balance("BTC") == (10 * BTC + bought - fee_for(bought, TAKER_BPS), 0)
    assert_books_sound()


def cap_of(amount: str, level: str, delta_bps: int = 0) -> int:
    """conditional.spend_cap's hold: the quantity at `level`, plus the margin and delta."""
    bps = 10_000 + conditional.STOP_BUY_MARGIN_BPS + delta_bps
    return -(-qty(amount) * price(level) * bps // (BTC * 10_000))


def stop_market_buy(trader: Trader, amount: str, stop: str) -> service.PlacedOrder:
    return place(trader, side="BUY", kind="market", quantity=qty(amount), stop_type="STOP_LOSS",
                 stop_price=price(stop))


def test_stop_market_buy_by_quantity_holds_a_cap_and_buys_its_quantity(alice, bob,
                                                                       dave) -> None:
    trade_at(bob, dave, "60000")
    stop = stop_market_buy(alice, "0.1", "60100")
    cap = cap_of("0.1", "60100")
    assert alice.balance("USDT") == (1_000_000 * USDT - cap, cap)
    assert (row(stop.order_id).held_amount, row(stop.order_id).quantity) == (cap, qty("0.1"))
    limit(bob, "SELL", "60200", "0.06")  # the asks the triggered buy takes
    limit(bob, "SELL", "60300", "1")
    service.forget_books()  # the cap survives a restart (it is the row's)
    result = trade_at(bob, dave, "60100")
    assert result.triggered == (stop.order_id,)
    stored = row(stop.order_id)
    spent = (price("60200") * qty("0.06") + price("60300") * qty("0.04")) // BTC
    assert (stored.status, stored.filled_quantity, stored.filled_quote, stored.held_amount) == (
        "filled", qty("0.1"), spent, 0)
    assert alice.balance("USDT") == (1_000_000 * USDT - spent, 0)
    assert alice.balance("BTC") == (10 * BTC + qty("0.1") - fee_for(qty("0.06"), TAKER_BPS)
                                    - fee_for(qty("0.04"), TAKER_BPS), 0)
    assert_books_sound()


def test_a_stop_market_buy_by_quantity_must_meet_the_minimum_total(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    with pytest.raises(TradingError, match=r"at least 10\.00 USDT"):  # 0.0001 at 60,100
        stop_market_buy(alice, "0.0001", "60100")
    assert alice.balance("USDT") == (1_000_000 * USDT, 0)
    assert_books_sound()


def test_a_stop_market_buy_that_gaps_past_its_cap_buys_what_it_holds(alice, bob,
                                                                     dave) -> None:
    trade_at(bob, dave, "60000")
    stop = stop_market_buy(alice, "0.1", "60100")
    cap = cap_of("0.1", "60100")
    limit(bob, "SELL", "70000", "1")  # far past the stop and its margin
    trade_at(bob, dave, "60100")
    stored = row(stop.order_id)
    bought = cap * BTC // price("70000") // 10_000 * 10_000
    assert (stored.status, stored.expire_reason, stored.filled_quantity, stored.held_amount) == (
        "expired", "INSUFFICIENT_BUDGET", bought, 0)
    assert stored.filled_quote == price("70000") * bought // BTC <= cap
    assert alice.balance("USDT") == (1_000_000 * USDT - stored.filled_quote, 0)
    assert_books_sound()


def test_a_trailing_stop_market_buy_by_quantity_holds_from_the_last_price(alice, bob,
                                                                          dave) -> None:
    with pytest.raises(TradingError, match="needs a last trade price"):
        place(alice, side="BUY", kind="market", quantity=qty("0.1"), stop_type="STOP_LOSS",
              trailing_delta=200)
    trade_at(bob, dave, "60000")
    place(alice, side="BUY", kind="market", quantity=qty("0.1"), stop_type="STOP_LOSS",
          trailing_delta=200)
    cap = cap_of("0.1", "60000", 200)
    assert alice.balance("USDT") == (1_000_000 * USDT - cap, cap)
    assert_books_sound()


def test_a_buy_oco_with_a_stop_market_leg_holds_the_larger_need(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    placed = service.place_oco(alice.user_id, SYMBOL, OcoRequest(
        side="BUY", quantity=qty("0.1"),
        above=OrderRequest(side="BUY", kind="market", stop_type="STOP_LOSS",
                           stop_price=price("61000")),
        below=OrderRequest(side="BUY", kind="limit", price=price("59000"), post_only=True)))
    cap = cap_of("0.1", "61000")
    assert alice.balance("USDT") == (1_000_000 * USDT - cap, cap)
    limit(bob, "SELL", "61000", "1")
    trade_at(bob, dave, "61000")
    stop = row(placed.above.order_id)
    assert (stop.status, stop.filled_quantity, stop.held_amount) == ("filled", qty("0.1"), 0)
    assert row(placed.below.order_id).status == "cancelled"
    assert alice.balance("USDT") == (1_000_000 * USDT - stop.filled_quote, 0)
    assert_books_sound()


@pytest.mark.parametrize(("side", "stop_type", "stop"), [
    ("SELL", "STOP_LOSS", "60000"), ("SELL", "STOP_LOSS", "60500"),
    ("BUY", "STOP_LOSS", "60000"), ("BUY", "STOP_LOSS", "59000"),
    ("SELL", "TAKE_PROFIT", "59000"), ("BUY", "TAKE_PROFIT", "61000"),
])
def test_an_order_that_would_trigger_at_once_is_refused(alice, bob, dave, side, stop_type,
                                                        stop) -> None:
    trade_at(bob, dave, "60000")
    before = alice.balance("BTC"), alice.balance("USDT")
    with pytest.raises(TradingError, match=r"Order would trigger immediately\.") as refused:
        place(alice, side=side, kind="limit", price=price(stop), quantity=qty("0.1"),
              stop_type=stop_type, stop_price=price(stop))
    assert refused.value.reason == "WOULD_TRIGGER"
    assert (alice.balance("BTC"), alice.balance("USDT")) == before
    with db.read() as conn:
        assert conn.scalar(select(_orders.c.id).where(_orders.c.user_id == alice.user_id)) is None


def test_trailing_stop_persists_its_extreme_and_triggers(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    stop = place(alice, side="SELL", kind="market", quantity=qty("0.1"), stop_type="STOP_LOSS",
                 trailing_delta=100)
    assert row(stop.order_id).trail_extreme == price("60000")
    trade_at(bob, dave, "61000")
    assert row(stop.order_id).trail_extreme == price("61000")
    limit(dave, "BUY", "60000", "0.1")
    assert trade_at(bob, dave, "60400").triggered == ()
    result = trade_at(bob, dave, "60390")  # 61,000 less 1%
    assert result.triggered == (stop.order_id,)
    assert row(stop.order_id).status == "filled"
    assert_books_sound()


def test_out_of_range_trailing_delta_is_refused(alice) -> None:
    with pytest.raises(TradingError, match="trailing delta") as refused:
        place(alice, side="SELL", kind="market", quantity=qty("0.1"), stop_type="STOP_LOSS",
              trailing_delta=5)
    assert refused.value.reason == "TRAILING_DELTA"


def test_a_cascade_settles_in_one_transaction(alice, bob, carol, dave) -> None:
    trade_at(bob, dave, "60000")
    first = stop_loss_sell(alice, "59950", "0.01")
    second = stop_loss_sell(carol, "59900", "0.01")
    untouched = stop_loss_sell(carol, "59000", "0.01")
    for at in ("59950", "59900", "59800"):
        limit(dave, "BUY", at, "0.01")
    result = limit(bob, "SELL", "59950", "0.01")
    assert result.triggered == (first.order_id, second.order_id)
    assert row(first.order_id).status == row(second.order_id).status == "filled"
    assert row(untouched.order_id).status == "pending"
    with db.read() as conn:
        sequences = MarketSequence.__table__
        assert conn.scalar(select(sequences.c.last_price).where(
            sequences.c.symbol == SYMBOL)) == price("59800")
    assert_books_sound()


def sell_oco(trader: Trader, amount: str = "0.5") -> service.PlacedList:
    return service.place_oco(trader.user_id, SYMBOL, OcoRequest(
        side="SELL", quantity=qty(amount),
        above=OrderRequest(side="SELL", kind="limit", price=price("61000"), post_only=True),
        below=OrderRequest(side="SELL", kind="limit", price=price("58900"),
                           stop_type="STOP_LOSS", stop_price=price("59000"))))


def test_oco_holds_once_and_a_partial_fill_of_its_limit_cancels_the_stop(alice, bob,
                                                                        dave) -> None:
    trade_at(bob, dave, "60000")
    placed = sell_oco(alice)
    assert alice.balance("BTC") == (10 * BTC - qty("0.5"), qty("0.5"))
    assert row(placed.above.order_id).order_list_id == placed.order_list_id
    assert row(placed.below.order_id).status == "pending"
    assert_books_sound()
    limit(dave, "BUY", "61000", "0.2")
    stop = row(placed.below.order_id)
    assert (stop.status, stop.expire_reason) == ("cancelled", "OCO")
    maker = row(placed.above.order_id)
    assert (maker.status, maker.remaining, maker.held_amount) == (
        "partially_filled", qty("0.3"), qty("0.3"))
    assert alice.balance("BTC") == (10 * BTC - qty("0.5"), qty("0.3"))
    assert_books_sound()
    # Cancelling what is left of the list releases the rest.
    service.cancel_order(alice.user_id, placed.above.order_id)
    assert alice.balance("BTC") == (10 * BTC - qty("0.2"), 0)
    assert_books_sound()


def test_oco_stop_trigger_cancels_the_limit_and_takes_its_hold(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    placed = sell_oco(alice)
    limit(dave, "BUY", "58900", "0.5")
    result = trade_at(bob, dave, "59000")
    assert result.triggered == (placed.below.order_id,)
    assert row(placed.above.order_id).status == "cancelled"
    assert row(placed.below.order_id).status == "filled"
    assert alice.balance("BTC") == (10 * BTC - qty("0.5"), 0)
    assert_books_sound()


def test_buy_oco_holds_the_larger_leg(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    placed = service.place_oco(alice.user_id, SYMBOL, OcoRequest(
        side="BUY", quantity=qty("0.5"),
        above=OrderRequest(side="BUY", kind="limit", price=price("61100"),
                           stop_type="STOP_LOSS", stop_price=price("61000")),
        below=OrderRequest(side="BUY", kind="limit", price=price("59000"), post_only=True)))
    hold = price("61100") * qty("0.5") // BTC
    assert alice.balance("USDT") == (1_000_000 * USDT - hold, hold)
    assert_books_sound()
    limit(bob, "SELL", "59000", "0.1")  # fills the limit maker partly: the stop goes
    assert row(placed.above.order_id).status == "cancelled"
    left = price("59000") * qty("0.4") // BTC
    assert alice.balance("USDT") == (1_000_000 * USDT - price("59000") * qty("0.1") // BTC
                                     - left, left)
    assert_books_sound()


def test_oco_prices_must_straddle_the_last_price(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    with pytest.raises(TradingError, match="relationship of the prices") as refused:
        service.place_oco(alice.user_id, SYMBOL, OcoRequest(
            side="SELL", quantity=qty("0.5"),
            above=OrderRequest(side="SELL", kind="limit", price=price("59990"), post_only=True),
            below=OrderRequest(side="SELL", kind="market", stop_type="STOP_LOSS",
                               stop_price=price("59000"))))
    assert refused.value.reason == "OCO_PRICES"
    assert alice.balance("BTC") == (10 * BTC, 0)


def test_halting_leaves_pending_orders_and_cancel_all_includes_them(alice, bob, dave) -> None:
    trade_at(bob, dave, "60000")
    stop_loss_sell(alice, "59000", "0.5")
    sell_oco(alice, "0.2")
    service.set_market_status(SYMBOL, "halted")
    assert service.pending_count(SYMBOL) == 2
    service.set_market_status(SYMBOL, "active")
    assert service.cancel_all(None, SYMBOL) == 3
    assert service.pending_count(SYMBOL) == 0
    assert alice.balance("BTC") == (10 * BTC, 0)
    assert_books_sound()


def test_restart_rebuilds_the_same_trigger_state(alice, bob, carol, dave) -> None:
    trade_at(bob, dave, "60000")
    stop_loss_sell(alice, "59000", "0.1")
    place(carol, side="SELL", kind="limit", price=price("58000"), quantity=qty("0.1"),
          stop_type="STOP_LOSS", trailing_delta=250)
    place(carol, side="BUY", kind="limit", price=price("62000"), quantity=qty("0.1"),
          stop_type="STOP_LOSS", stop_price=price("61000"), trailing_delta=50)
    sell_oco(alice, "0.2")
    trade_at(bob, dave, "60500")
    trade_at(bob, dave, "60100")
    before = service.trigger_snapshot(SYMBOL)
    assert len(before[1]) == 4 and len(before[2]) == 1
    service.forget_books()
    assert service.trigger_snapshot(SYMBOL) == before


def test_a_placed_order_the_cascade_traded_with_reports_its_final_row(alice, bob, carol,
                                                                     dave) -> None:
    trade_at(bob, dave, "60000")
    stop = stop_loss_sell(alice, "59950", "0.01")
    limit(carol, "SELL", "59900", "0.01")
    # Dave's bid takes Carol's ask (the price falls through Alice's stop), rests for the rest,
    # and Alice's triggered market sell fills that rest as the maker, in the same command.
    bid = limit(dave, "BUY", "59900", "0.02")
    assert bid.triggered == (stop.order_id,)
    assert bid.row["status"] == row(bid.order_id).status == "filled"
    assert bid.row["filled_quantity"] == row(bid.order_id).filled_quantity == qty("0.02")
    assert len(bid.fills) == 1 and bid.fills[0].quantity == qty("0.01")  # its taker fill
    assert_books_sound()
