"""Conditional orders in the engine: stop-loss / take-profit (market and limit), trailing
stops with and without an activation price, OCO pairs, cascades, exact boundaries, restart."""

from __future__ import annotations

import pytest

from bitchange.engine import (
    Cancelled,
    Expired,
    MarketRules,
    OrderBook,
    PendingOrder,
    Rejected,
    Side,
    Status,
    TimeInForce,
    Trade,
    Trailing,
    Triggered,
    trail_level,
)

TICK, LOT, SCALE = 100, 1_000_000, 10**8
RULES = MarketRules(tick_size=TICK, lot_size=LOT, min_notional=0, base_scale=SCALE)
BUY, SELL = Side.BUY, Side.SELL
MAKER, TRADER, STOPPER = 1, 2, 3


class Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def market_at(price: int) -> tuple[OrderBook, Ids]:
    """A book whose last trade was at `price`, with nothing resting."""
    book, ids = OrderBook(RULES), Ids()
    book.submit_limit(ids(), MAKER, SELL, price, LOT)
    book.submit_limit(ids(), TRADER, BUY, price, LOT)
    assert book.last_price == price and len(book) == 0
    return book, ids


def trade_at(book: OrderBook, ids: Ids, price: int, qty: int = LOT) -> list:
    """Another trader's trade at `price` (a resting sell, then a buy that takes it)."""
    book.submit_limit(ids(), MAKER, SELL, price, qty)
    return book.submit_limit(ids(), TRADER, BUY, price, qty).events


def stop(order_id: int, side: Side, above: bool, stop_price: int | None, *,
         price: int | None = None, qty: int | None = LOT, quote: int | None = None,
         delta: int | None = None, owner: int = STOPPER,
         tif: TimeInForce = TimeInForce.GTC) -> PendingOrder:
    return PendingOrder(order_id, owner, side, above, stop_price, delta, price, qty, quote,
                        tif)


def triggered(events: list) -> list[tuple[int, int, Status]]:
    return [(e.order_id, e.trigger_price, e.status) for e in events if type(e) is Triggered]


# --- every type and side ----------------------------------------------------------------


@pytest.mark.parametrize(("name", "side", "above"), [
    ("STOP_LOSS SELL", SELL, False), ("TAKE_PROFIT BUY", BUY, False),
    ("STOP_LOSS BUY", BUY, True), ("TAKE_PROFIT SELL", SELL, True),
])
@pytest.mark.parametrize("limit", [False, True])
def test_each_type_triggers_at_its_stop_exactly(name: str, side: Side, above: bool,
                                               limit: bool) -> None:
    book, ids = market_at(10_000)
    stop_price = 11_000 if above else 9_000
    # Liquidity for the triggered order on the other side, away from the trigger trades.
    sid = ids()
    result = book.submit_conditional(stop(sid, side, above, stop_price,
                                          price=stop_price if limit else None))
    assert result.status is Status.PENDING and book.pending_count() == 1
    # One tick short of the stop: nothing.
    events = trade_at(book, ids, stop_price - TICK if above else stop_price + TICK)
    assert not triggered(events) and book.get_pending(sid) is not None
    # Counter-liquidity for the triggered order (a buy order needs asks, a sell needs bids).
    if side is BUY:
        book.submit_limit(ids(), MAKER, SELL, stop_price + 5 * TICK, 5 * LOT)
    else:
        book.submit_limit(ids(), MAKER, BUY, stop_price - 5 * TICK, 5 * LOT)
    # Exactly at the stop: triggered in the same command.
    boundary = ids()
    book.submit_limit(boundary, MAKER, SELL, stop_price, LOT)
    events = book.submit_limit(ids(), TRADER, BUY, stop_price, LOT).events
    assert book.get_pending(sid) is None
    (order_id, at, status), = triggered(events)
    assert (order_id, at) == (sid, stop_price)
    fills = [e for e in events if type(e) is Trade and e.taker_order_id == sid]
    if limit:
        # A limit at the stop price: a buy at 11,000 cannot reach the ask at 11,500; a sell
        # at 9,000 cannot reach the bid at 8,500: it rests.
        assert status is Status.NEW and not fills and book.get(sid) is not None
    else:
        assert status is Status.FILLED and fills[0].quantity == LOT
        assert fills[0].price == (stop_price + 5 * TICK if side is BUY else stop_price - 5 * TICK)


@pytest.mark.parametrize(("side", "above", "stop_price"), [
    (SELL, False, 10_000), (SELL, False, 10_100), (BUY, True, 10_000), (BUY, True, 9_900),
    (SELL, True, 10_000), (BUY, False, 10_000),
])
def test_a_stop_already_met_is_refused(side: Side, above: bool, stop_price: int) -> None:
    book, ids = market_at(10_000)
    result = book.submit_conditional(stop(ids(), side, above, stop_price))
    assert result.status is Status.REJECTED
    assert result.events[0] == Rejected(result.order_id, "WOULD_TRIGGER",
                                        "Order would trigger immediately.")
    assert book.pending_count() == 0


def test_without_any_trade_a_stop_is_accepted() -> None:
    book = OrderBook(RULES)
    assert book.submit_conditional(stop(1, SELL, False, 9_000)).status is Status.PENDING


def test_bad_conditional_orders_are_rejected() -> None:
    book, ids = market_at(10_000)
    for order, code in [
        (stop(ids(), SELL, False, None), "STOP_MISSING"),
        (stop(ids(), SELL, False, 9_050), "STOP_PRICE"),
        (stop(ids(), SELL, False, None, delta=0), "TRAILING_DELTA"),
        (stop(ids(), SELL, False, 9_000, price=9_050), "PRICE_TICK"),
        (stop(ids(), SELL, False, 9_000, qty=LOT + 1), "QUANTITY_LOT"),
        (stop(ids(), SELL, False, 9_000, qty=None, quote=10**6), "MARKET_SIZE"),
    ]:
        result = book.submit_conditional(order)
        assert result.status is Status.REJECTED and result.events[0].code == code
    assert book.pending_count() == 0


def test_cancel_a_pending_order() -> None:
    book, ids = market_at(10_000)
    sid = ids()
    book.submit_conditional(stop(sid, SELL, False, 9_000))
    assert book.cancel(sid) == Cancelled(sid, LOT, "USER")
    assert book.pending_count() == 0
    assert isinstance(book.cancel(sid), Rejected)
    book.submit_limit(ids(), MAKER, BUY, 8_000, LOT)
    assert not triggered(trade_at(book, ids, 9_000))


def test_triggered_market_order_on_an_empty_book_expires() -> None:
    book, ids = market_at(10_000)
    sid = ids()
    book.submit_conditional(stop(sid, SELL, False, 9_000))
    events = trade_at(book, ids, 9_000)
    assert not [e for e in events if type(e) is Expired]
    (run,) = [e for e in events if type(e) is Triggered]
    assert run == Triggered(sid, 9_000, Status.EXPIRED, 0, 0, 0, LOT, False,
                            "MARKET_NO_LIQUIDITY")


def test_market_buy_by_quote_on_trigger() -> None:
    book, ids = market_at(10_000)
    sid = ids()
    book.submit_conditional(stop(sid, BUY, True, 11_000, qty=None, quote=250))
    book.submit_limit(ids(), MAKER, SELL, 12_000, 10 * LOT)
    events = trade_at(book, ids, 11_000)
    (t,) = [e for e in events if type(e) is Trade and e.taker_order_id == sid]
    assert (t.price, t.quantity, t.notional) == (12_000, 2 * LOT, 240)
    assert triggered(events) == [(sid, 11_000, Status.FILLED)]


def test_market_buy_by_quantity_on_trigger_spends_at_most_its_cap() -> None:
    book, ids = market_at(10_000)
    enough, short = ids(), ids()
    assert book.submit_conditional(stop(enough, BUY, True, 11_000, qty=3 * LOT,
                                        quote=400)).status is Status.PENDING
    book.submit_conditional(stop(short, BUY, True, 11_000, qty=3 * LOT, quote=250))
    book.submit_limit(ids(), MAKER, SELL, 12_000, 10 * LOT)  # 120 a lot
    events = trade_at(book, ids, 11_000)
    bought = {sid: [(e.price, e.quantity) for e in events
                    if type(e) is Trade and e.taker_order_id == sid] for sid in (enough, short)}
    assert bought == {enough: [(12_000, 3 * LOT)], short: [(12_000, 2 * LOT)]}
    runs = {e.order_id: e for e in events if type(e) is Triggered}
    assert runs[enough] == Triggered(enough, 11_000, Status.FILLED, 3 * LOT, 360, 0, 0, False,
                                     "")
    # Its cap buys two of its three lots: the third expires, 240 of 250 spent.
    assert runs[short] == Triggered(short, 11_000, Status.EXPIRED, 2 * LOT, 240, 0, LOT,
                                    False, "INSUFFICIENT_BUDGET")


def test_a_capped_market_buy_is_checked_at_acceptance() -> None:
    book, ids = market_at(10_000)
    for order, code in [(stop(ids(), BUY, True, 11_000, qty=LOT + 1, quote=500), "QUANTITY_LOT"),
                        (stop(ids(), BUY, True, 11_000, quote=0), "QUOTE_NON_POSITIVE"),
                        (stop(ids(), SELL, False, 9_000, quote=500), "MARKET_SIZE")]:
        result = book.submit_conditional(order)
        assert result.status is Status.REJECTED and result.events[0].code == code
    assert book.pending_count() == 0


# --- trailing ---------------------------------------------------------------------------


def test_trailing_sell_without_stop_price_tracks_from_the_last_price() -> None:
    """Binance FAQ scenario E (prices / 10): 700 bps; 4,000 -> 4,200 -> 3,950 -> 4,550 ->
    triggers at 4,231.5 -> 4,231 (= floor(4,550 * 0.93))."""
    book, ids = market_at(400_000)
    sid = ids()
    book.submit_conditional(stop(sid, SELL, False, None, delta=700, price=390_000))
    assert book.get_pending(sid).extreme == 400_000
    events = trade_at(book, ids, 420_000)
    assert Trailing(sid, 420_000) in events
    assert not triggered(trade_at(book, ids, 395_000))
    trade_at(book, ids, 455_000)
    level = trail_level(SELL, 455_000, 700)
    assert level == 423_150  # 455,000 * 0.93, between two ticks
    assert not triggered(trade_at(book, ids, 423_200))
    assert triggered(trade_at(book, ids, 423_100)) == [(sid, 423_100, Status.NEW)]
    assert book.get(sid) is not None  # rests as a sell at 3,900.00


def test_trailing_buy_with_activation_price() -> None:
    """Binance FAQ scenario A: STOP_LOSS_LIMIT BUY, stop 44,000, delta 500."""
    book, ids = market_at(40_000)
    sid = ids()
    book.submit_conditional(stop(sid, BUY, True, 44_000, delta=500, price=45_000))
    events = trade_at(book, ids, 37_000)  # a fall of 7.5% before activation: ignored
    assert not triggered(events) and book.get_pending(sid).extreme is None
    events = trade_at(book, ids, 44_000)  # touches the stop: tracking starts, lowest 44,000
    assert Trailing(sid, 44_000) in events and not triggered(events)
    assert not triggered(trade_at(book, ids, 46_000))  # +4.5%
    trade_at(book, ids, 42_000)  # new low
    assert book.get_pending(sid).extreme == 42_000
    assert not triggered(trade_at(book, ids, 44_000))
    assert triggered(trade_at(book, ids, 44_100)) == [(sid, 44_100, Status.NEW)]


@pytest.mark.parametrize(("side", "above", "stop_price", "path", "fires"), [
    # Scenario B: STOP_LOSS_LIMIT SELL, stop 39,000, 1000 bps.
    (SELL, False, 39_000, [41_500, 39_000, 37_000, 41_000], 36_900),
    # Scenario C: TAKE_PROFIT_LIMIT BUY, stop 38,000, 850 bps.
    (BUY, False, 38_000, [42_000, 38_000, 37_000, 39_000, 38_000], 40_200),
    # Scenario D: TAKE_PROFIT_LIMIT SELL, stop 42,000, 750 bps.
    (SELL, True, 42_000, [41_500, 39_000, 42_000, 45_000, 44_000, 46_500], 43_000),
])
def test_trailing_scenarios(side: Side, above: bool, stop_price: int, path: list[int],
                            fires: int) -> None:
    book, ids = market_at(40_000)
    sid = ids()
    delta = {39_000: 1000, 38_000: 850, 42_000: 750}[stop_price]
    book.submit_conditional(stop(sid, side, above, stop_price, delta=delta))
    for price in path:
        assert not triggered(trade_at(book, ids, price)), price
    # A market order when triggered: liquidity for it on the other side.
    if side is BUY:
        book.submit_limit(ids(), MAKER, SELL, 60_000, LOT)
    else:
        book.submit_limit(ids(), MAKER, BUY, 10_000, LOT)
    assert triggered(trade_at(book, ids, fires)) == [(sid, fires, Status.FILLED)]


def test_trailing_without_trades_starts_at_the_first_trade() -> None:
    book, ids = OrderBook(RULES), Ids()
    sid = ids()
    book.submit_conditional(stop(sid, SELL, False, None, delta=1000, price=8_000))
    assert book.get_pending(sid).extreme is None
    events = trade_at(book, ids, 10_000)
    assert Trailing(sid, 10_000) in events and not triggered(events)
    assert triggered(trade_at(book, ids, 9_000)) == [(sid, 9_000, Status.NEW)]


# --- OCO --------------------------------------------------------------------------------


def sell_oco(book: OrderBook, ids: Ids) -> tuple[int, int]:
    """A SELL OCO at last 10,000: limit maker at 11,000 above, stop-limit 9,000/8,900 below."""
    limit_id, stop_id = ids(), ids()
    assert book.submit_limit(limit_id, STOPPER, SELL, 11_000, 2 * LOT, post_only=True).resting
    book.submit_conditional(stop(stop_id, SELL, False, 9_000, price=8_900, qty=2 * LOT))
    book.link(limit_id, stop_id)
    return limit_id, stop_id


def test_oco_limit_leg_fill_cancels_the_stop() -> None:
    book, ids = market_at(10_000)
    limit_id, stop_id = sell_oco(book, ids)
    events = book.submit_limit(ids(), TRADER, BUY, 11_000, LOT).events
    assert Cancelled(stop_id, 2 * LOT, "OCO") in events  # a partial fill is enough
    assert book.get_pending(stop_id) is None and book.get(limit_id).remaining == LOT
    assert book.partner_of(limit_id) is None
    book.submit_limit(ids(), MAKER, BUY, 8_000, LOT)
    assert not triggered(trade_at(book, ids, 9_000))


def test_oco_stop_trigger_cancels_the_limit_leg() -> None:
    book, ids = market_at(10_000)
    limit_id, stop_id = sell_oco(book, ids)
    book.submit_limit(ids(), MAKER, BUY, 8_900, 2 * LOT)
    events = trade_at(book, ids, 9_000)
    assert Cancelled(limit_id, 2 * LOT, "OCO") in events
    assert events.index(Cancelled(limit_id, 2 * LOT, "OCO")) < events.index(
        next(e for e in events if type(e) is Triggered))
    assert triggered(events) == [(stop_id, 9_000, Status.FILLED)]
    assert book.get(limit_id) is None and book.partner_of(stop_id) is None


def test_buy_oco_both_ways() -> None:
    book, ids = market_at(10_000)
    limit_id, stop_id = ids(), ids()
    book.submit_limit(limit_id, STOPPER, BUY, 9_000, LOT, post_only=True)
    book.submit_conditional(stop(stop_id, BUY, True, 11_000, price=11_100))
    book.link(limit_id, stop_id)
    events = book.submit_limit(ids(), TRADER, SELL, 9_000, LOT).events
    assert Cancelled(stop_id, LOT, "OCO") in events and book.pending_count() == 0
    # And the other way: the stop triggers, the limit is cancelled.
    limit_id, stop_id = ids(), ids()
    book.submit_limit(limit_id, STOPPER, BUY, 9_000, LOT, post_only=True)
    book.submit_conditional(stop(stop_id, BUY, True, 11_000, price=11_100))
    book.link(limit_id, stop_id)
    events = trade_at(book, ids, 11_000)
    assert Cancelled(limit_id, LOT, "OCO") in events
    assert triggered(events) == [(stop_id, 11_000, Status.NEW)]


def test_two_stop_legs_triggered_together_run_only_the_first() -> None:
    book, ids = market_at(10_000)
    low, high = ids(), ids()
    # Two BUY stops above the market, linked: the move sets off both, the first cancels the
    # second before it runs.
    book.submit_conditional(stop(low, BUY, True, 10_500, price=12_000))
    book.submit_conditional(stop(high, BUY, True, 10_700, price=12_000))
    book.link(low, high)
    events = trade_at(book, ids, 10_800)
    assert triggered(events) == [(low, 10_800, Status.NEW)]
    assert Cancelled(high, LOT, "OCO") in events


# --- cascades and ordering ---------------------------------------------------------------


def test_a_stop_whose_market_order_triggers_two_more() -> None:
    book, ids = market_at(10_000)
    first, second, third, untouched = ids(), ids(), ids(), ids()
    book.submit_conditional(stop(first, SELL, False, 9_800))
    book.submit_conditional(stop(second, SELL, False, 9_500))
    book.submit_conditional(stop(third, SELL, False, 9_400))
    book.submit_conditional(stop(untouched, SELL, False, 8_000))
    for price in (9_500, 9_400, 9_300):  # bids the stops sell into
        book.submit_limit(ids(), MAKER, BUY, price, LOT)
    book.submit_limit(ids(), MAKER, BUY, 9_800, LOT)
    events = book.submit_limit(ids(), TRADER, SELL, 9_800, LOT).events
    # first sells into 9,500 (sets off second), second into 9,400 (sets off third), third
    # into 9,300; the stop at 8,000 stays.
    assert triggered(events) == [(first, 9_800, Status.FILLED), (second, 9_500, Status.FILLED),
                                 (third, 9_400, Status.FILLED)]
    assert book.last_price == 9_300
    assert [p.order_id for p in book.pending_orders()] == [untouched]


def test_one_move_sets_off_stops_in_the_direction_of_the_move_then_by_time() -> None:
    book, ids = market_at(10_000)
    a, b, c, d = ids(), ids(), ids(), ids()
    book.submit_conditional(stop(a, SELL, False, 9_000, price=5_000))
    book.submit_conditional(stop(b, SELL, False, 9_500, price=5_000))
    book.submit_conditional(stop(c, SELL, False, 9_000, price=5_000))
    book.submit_conditional(stop(d, SELL, False, 9_700, price=5_000))
    book.submit_limit(ids(), MAKER, BUY, 8_000, LOT)
    book.submit_limit(ids(), MAKER, BUY, 8_000, LOT)
    events = book.submit_limit(ids(), TRADER, SELL, 8_000, 2 * LOT).events
    # Falling: the highest stop first; 9,000 twice: by id.
    assert [t[0] for t in triggered(events)] == [d, b, a, c]


def test_every_trade_price_of_a_sweep_counts() -> None:
    """A buy stop at 10,200 is set off by the first fill of a sell sweep at 10,300 even though
    the sweep ends at 9,900."""
    book, ids = market_at(10_000)
    sid = ids()
    book.submit_conditional(stop(sid, BUY, True, 10_200, price=9_000))
    for price in (10_300, 9_900):
        book.submit_limit(ids(), MAKER, BUY, price, LOT)
    events = book.submit_limit(ids(), TRADER, SELL, 9_900, 2 * LOT).events
    assert triggered(events) == [(sid, 10_300, Status.NEW)]


# --- restart ----------------------------------------------------------------------------


def rebuild(book: OrderBook) -> OrderBook:
    """A new book from what the database keeps: resting orders, pending orders with their
    trailing state, OCO pairs and the last price."""
    copy = OrderBook(RULES)
    copy.load(book.get(order[0]) for side in book.snapshot() for _, orders in side
              for order in orders)
    for pending in book.pending_orders():
        copy.restore_pending(pending)
    for a, b in book.trigger_snapshot()[2]:
        copy.link(a, b)
    copy.last_price = book.last_price
    return copy


def test_restart_rebuilds_identical_trigger_state_and_behaviour() -> None:
    book, ids = market_at(10_000)
    book.submit_conditional(stop(ids(), SELL, False, None, delta=500, price=9_000))
    book.submit_conditional(stop(ids(), BUY, True, 10_500, delta=300))
    book.submit_conditional(stop(ids(), SELL, False, 9_500))
    sell_oco(book, ids)
    trade_at(book, ids, 10_400)
    trade_at(book, ids, 10_600)
    copy = rebuild(book)
    assert copy.trigger_snapshot() == book.trigger_snapshot()
    assert copy.snapshot() == book.snapshot()
    counter = ids.n
    for price in (10_300, 10_900, 9_900, 9_400, 8_800, 11_000):
        ids.n = counter
        a = trade_at(book, ids, price)
        ids.n = counter
        b = trade_at(copy, ids, price)
        counter = ids.n
        assert a == b
    assert copy.trigger_snapshot() == book.trigger_snapshot()
    assert copy.snapshot() == book.snapshot()
