"""Unit tests of the matching engine's classic edge cases (pure, no I/O)."""

from __future__ import annotations

import pytest

from bitchange.engine import (
    STP,
    Accepted,
    Cancelled,
    Expired,
    MarketRules,
    OrderBook,
    Rejected,
    RestingOrder,
    Side,
    Status,
    TimeInForce,
    Trade,
    fee_for,
)

BUY, SELL = Side.BUY, Side.SELL
TICK = 10_000  # 0.01 quote (6 decimals)
LOT = 10_000  # 0.0001 base (8 decimals)
SCALE = 10**8
P = 65_000_000_000  # 65,000.00
RULES = MarketRules(
    tick_size=TICK,
    lot_size=LOT,
    min_notional=5_000_000,
    base_scale=SCALE,
    maker_fee_bps=10,
    taker_fee_bps=20,
)


class Ids:
    """Increasing order ids, like the database sequence."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


@pytest.fixture
def book() -> OrderBook:
    return OrderBook(RULES)


@pytest.fixture
def ids() -> Ids:
    return Ids()


def trades(events: list) -> list[Trade]:
    return [e for e in events if isinstance(e, Trade)]


def notional(price: int, qty: int) -> int:
    return price * qty // SCALE


# --- rules ----------------------------------------------------------------------


def test_rules_reject_inexact_notional() -> None:
    with pytest.raises(ValueError, match="multiple of base_scale"):
        MarketRules(tick_size=10_000, lot_size=1_000, min_notional=0, base_scale=10**8)


@pytest.mark.parametrize("bps", [-1, 10_001])
def test_rules_reject_fee_outside_0_to_100_percent(bps: int) -> None:
    with pytest.raises(ValueError, match="fee bps"):
        MarketRules(tick_size=TICK, lot_size=LOT, min_notional=0, base_scale=SCALE,
                    taker_fee_bps=bps)  # fmt: skip


def test_rules_reject_floats() -> None:
    with pytest.raises(TypeError):
        MarketRules(tick_size=0.01, lot_size=LOT, min_notional=0, base_scale=SCALE)  # type: ignore[arg-type]


# --- priority and sweeps ----------------------------------------------------------


def test_fifo_within_level_after_middle_cancel(book: OrderBook, ids: Ids) -> None:
    a, b, c = (book.submit_limit(ids(), 1 + i, SELL, P, 10 * LOT).order_id for i in range(3))
    assert book.cancel(b) == Cancelled(b, 10 * LOT, "USER")
    r = book.submit_limit(ids(), 9, BUY, P, 15 * LOT)
    assert [(t.maker_order_id, t.quantity) for t in trades(r.events)] == [
        (a, 10 * LOT),
        (c, 5 * LOT),
    ]
    assert book.get(c) == RestingOrder(c, 3, SELL, P, 10 * LOT, 5 * LOT)
    assert book.get(a) is None


def test_partial_fill_then_cancel(book: OrderBook, ids: Ids) -> None:
    maker = book.submit_limit(ids(), 1, BUY, P, 10 * LOT).order_id
    r = book.submit_limit(ids(), 2, SELL, P, 4 * LOT, TimeInForce.IOC)
    assert r.status == Status.FILLED and r.filled == 4 * LOT
    assert trades(r.events)[0].maker_remaining == 6 * LOT
    assert book.cancel(maker) == Cancelled(maker, 6 * LOT, "USER")
    assert book.snapshot() == ((), ())
    assert book.best_bid() is None


def test_multi_level_sweep_residual_becomes_best_price(book: OrderBook, ids: Ids) -> None:
    for i in range(3):
        book.submit_limit(ids(), 1, SELL, P + i * TICK, LOT)
    r = book.submit_limit(ids(), 2, BUY, P + TICK, 3 * LOT)
    assert [t.price for t in trades(r.events)] == [P, P + TICK]
    assert r.status == Status.PARTIALLY_FILLED and r.resting and r.remaining == LOT
    assert book.best_bid() == P + TICK
    assert book.best_ask() == P + 2 * TICK
    assert book.depth(5) == ([(P + TICK, LOT)], [(P + 2 * TICK, LOT)])


def test_exact_multi_level_boundary(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, 2 * LOT)
    book.submit_limit(ids(), 1, SELL, P + TICK, 3 * LOT)
    book.submit_limit(ids(), 1, SELL, P + 2 * TICK, 4 * LOT)
    r = book.submit_limit(ids(), 2, BUY, P + 2 * TICK, 5 * LOT)
    assert r.status == Status.FILLED and not r.resting and r.remaining == 0
    assert r.quote == notional(P, 2 * LOT) + notional(P + TICK, 3 * LOT)
    assert book.best_ask() == P + 2 * TICK
    assert book.best_bid() is None
    assert book.depth(5) == ([], [(P + 2 * TICK, 4 * LOT)])


def test_maker_price_improvement_goes_to_taker(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, LOT)
    r = book.submit_limit(ids(), 2, BUY, P + 500 * TICK, LOT)
    (t,) = trades(r.events)
    assert t.price == P
    assert r.quote == notional(P, LOT)


def test_depth_aggregates_levels_best_first(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, BUY, P, LOT)
    book.submit_limit(ids(), 2, BUY, P, 2 * LOT)
    book.submit_limit(ids(), 1, BUY, P - TICK, LOT)
    book.submit_limit(ids(), 1, SELL, P + 3 * TICK, LOT)
    assert book.depth(1) == ([(P, 3 * LOT)], [(P + 3 * TICK, LOT)])
    assert book.depth(9) == ([(P, 3 * LOT), (P - TICK, LOT)], [(P + 3 * TICK, LOT)])
    assert book.depth(0) == ([], [])


def test_many_middle_cancels_compact_the_level_and_keep_fifo(book: OrderBook, ids: Ids) -> None:
    placed = [book.submit_limit(ids(), 1, SELL, P, LOT).order_id for _ in range(200)]
    for order_id in placed[1:-1]:
        assert isinstance(book.cancel(order_id), Cancelled)
    assert len(book._levels[-P]) < 100  # tombstones were compacted away
    r = book.submit_limit(ids(), 2, BUY, P, 2 * LOT)
    assert [t.maker_order_id for t in trades(r.events)] == [placed[0], placed[-1]]
    assert book.snapshot() == ((), ())


# --- time in force and post-only ------------------------------------------------


def test_ioc_partial_fill_expires_the_rest(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, LOT)
    r = book.submit_limit(ids(), 2, BUY, P, 3 * LOT, TimeInForce.IOC)
    assert r.status == Status.EXPIRED and r.filled == LOT and not r.resting
    assert r.events[-1] == Expired(r.order_id, 2 * LOT, "IOC")
    assert book.snapshot() == ((), ())


def test_ioc_without_liquidity_expires_whole(book: OrderBook, ids: Ids) -> None:
    r = book.submit_limit(ids(), 2, BUY, P, 3 * LOT, TimeInForce.IOC)
    assert r.events == [Accepted(r.order_id), Expired(r.order_id, 3 * LOT, "IOC")]


def test_fok_with_enough_liquidity_fills_completely(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, LOT)
    book.submit_limit(ids(), 1, SELL, P + TICK, 2 * LOT)
    r = book.submit_limit(ids(), 2, BUY, P + TICK, 3 * LOT, TimeInForce.FOK)
    assert r.status == Status.FILLED and r.filled == 3 * LOT


def test_fok_without_enough_liquidity_leaves_book_untouched(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, LOT)
    book.submit_limit(ids(), 1, SELL, P + 2 * TICK, 5 * LOT)  # beyond the limit
    before = book.snapshot()
    r = book.submit_limit(ids(), 2, BUY, P + TICK, 2 * LOT, TimeInForce.FOK)
    assert r.events == [Accepted(r.order_id), Expired(r.order_id, 2 * LOT, "FOK")]
    assert r.filled == 0 and r.status == Status.EXPIRED
    assert book.snapshot() == before


def test_fok_not_crossing_expires(book: OrderBook, ids: Ids) -> None:
    r = book.submit_limit(ids(), 2, BUY, P, LOT, TimeInForce.FOK)
    assert r.events[-1] == Expired(r.order_id, LOT, "FOK")
    assert book.best_bid() is None


def test_post_only_rests_when_passive(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P + TICK, LOT)
    r = book.submit_limit(ids(), 2, BUY, P, LOT, post_only=True)
    assert r.status == Status.NEW and r.resting
    assert book.best_bid() == P


def test_post_only_rejected_when_it_would_take(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, LOT)
    before = book.snapshot()
    r = book.submit_limit(ids(), 2, BUY, P, LOT, post_only=True)
    assert r.status == Status.REJECTED
    assert r.events == [Rejected(r.order_id, "POST_ONLY_WOULD_TAKE", r.events[0].message)]
    assert book.snapshot() == before


# --- self-trade prevention --------------------------------------------------------


def _stp_book(book: OrderBook, ids: Ids) -> tuple[int, int]:
    own = book.submit_limit(ids(), 7, SELL, P, LOT).order_id
    other = book.submit_limit(ids(), 8, SELL, P, LOT).order_id
    return own, other


def test_stp_default_is_expire_taker(book: OrderBook, ids: Ids) -> None:
    own, other = _stp_book(book, ids)
    r = book.submit_limit(ids(), 7, BUY, P, 2 * LOT)
    assert r.events == [Accepted(r.order_id), Expired(r.order_id, 2 * LOT, "STP")]
    assert r.status == Status.EXPIRED and not r.resting
    assert own in book and other in book


def test_stp_expire_taker_after_partial_fill(book: OrderBook, ids: Ids) -> None:
    other = book.submit_limit(ids(), 8, SELL, P, LOT).order_id
    own = book.submit_limit(ids(), 7, SELL, P, LOT).order_id
    r = book.submit_limit(ids(), 7, BUY, P, 2 * LOT, stp=STP.EXPIRE_TAKER)
    assert [t.maker_order_id for t in trades(r.events)] == [other]
    assert r.events[-1] == Expired(r.order_id, LOT, "STP")
    assert own in book


def test_stp_expire_maker_removes_own_order_and_continues(book: OrderBook, ids: Ids) -> None:
    own, other = _stp_book(book, ids)
    r = book.submit_limit(ids(), 7, BUY, P, 2 * LOT, stp=STP.EXPIRE_MAKER)
    assert r.events[1] == Expired(own, LOT, "STP")
    assert [t.maker_order_id for t in trades(r.events)] == [other]
    assert r.status == Status.PARTIALLY_FILLED and r.resting and r.remaining == LOT
    assert own not in book and book.best_bid() == P


def test_stp_expire_both(book: OrderBook, ids: Ids) -> None:
    own, other = _stp_book(book, ids)
    r = book.submit_limit(ids(), 7, BUY, P, 2 * LOT, stp=STP.EXPIRE_BOTH)
    assert r.events == [
        Accepted(r.order_id),
        Expired(own, LOT, "STP"),
        Expired(r.order_id, 2 * LOT, "STP"),
    ]
    assert own not in book and other in book and not r.resting


def test_stp_on_market_order(book: OrderBook, ids: Ids) -> None:
    own, _ = _stp_book(book, ids)
    r = book.submit_market(ids(), 7, BUY, quantity=LOT)
    assert r.events[-1] == Expired(r.order_id, LOT, "STP")
    assert own in book


def test_fok_counts_only_liquidity_before_own_order(book: OrderBook, ids: Ids) -> None:
    _stp_book(book, ids)
    before = book.snapshot()
    r = book.submit_limit(ids(), 7, BUY, P, LOT, TimeInForce.FOK)  # own order is first
    assert r.events[-1] == Expired(r.order_id, LOT, "FOK")
    assert book.snapshot() == before
    r = book.submit_limit(ids(), 7, BUY, P, LOT, TimeInForce.FOK, stp=STP.EXPIRE_MAKER)
    assert r.status == Status.FILLED


# --- cancels ----------------------------------------------------------------------


def test_cancel_of_filled_order_is_rejected(book: OrderBook, ids: Ids) -> None:
    maker = book.submit_limit(ids(), 1, SELL, P, LOT).order_id
    book.submit_limit(ids(), 2, BUY, P, LOT)
    event = book.cancel(maker)
    assert isinstance(event, Rejected) and event.code == "ORDER_NOT_OPEN"


def test_cancel_twice_and_unknown_are_rejected(book: OrderBook, ids: Ids) -> None:
    maker = book.submit_limit(ids(), 1, SELL, P, LOT).order_id
    assert isinstance(book.cancel(maker), Cancelled)
    assert book.cancel(maker).code == "ORDER_NOT_OPEN"  # type: ignore[union-attr]
    assert book.cancel(12345).code == "ORDER_NOT_OPEN"  # type: ignore[union-attr]


def test_cancel_reason_is_passed_through(book: OrderBook, ids: Ids) -> None:
    maker = book.submit_limit(ids(), 1, SELL, P, LOT).order_id
    assert book.cancel(maker, "ADMIN") == Cancelled(maker, LOT, "ADMIN")


# --- filters ----------------------------------------------------------------------

LIMIT_FILTERS = [
    ({"price": P + 1}, "PRICE_TICK"),
    ({"price": 0}, "PRICE_NON_POSITIVE"),
    ({"price": -TICK}, "PRICE_NON_POSITIVE"),
    ({"quantity": LOT + 1}, "QUANTITY_LOT"),
    ({"quantity": 0}, "QUANTITY_NON_POSITIVE"),
    ({"price": TICK, "quantity": LOT}, "MIN_NOTIONAL"),
    ({"side": "buy"}, "INVALID_SIDE"),
    ({"tif": "GTD"}, "INVALID_TIF"),
    ({"stp": "NONE"}, "INVALID_STP"),
    ({"tif": TimeInForce.IOC, "post_only": True}, "POST_ONLY_TIF"),
]


@pytest.mark.parametrize(("override", "code"), LIMIT_FILTERS)
def test_limit_filters(book: OrderBook, override: dict, code: str) -> None:
    args = {"order_id": 1, "owner": 1, "side": BUY, "price": P, "quantity": LOT} | override
    r = book.submit_limit(**args)
    assert r.status == Status.REJECTED and not r.resting
    (event,) = r.events
    assert isinstance(event, Rejected) and event.code == code and event.message
    assert book.snapshot() == ((), ())


def test_min_notional_boundary_is_inclusive(ids: Ids) -> None:
    book = OrderBook(
        MarketRules(tick_size=TICK, lot_size=LOT, min_notional=notional(P, LOT), base_scale=SCALE)
    )
    assert book.submit_limit(ids(), 1, BUY, P, LOT).status == Status.NEW
    assert book.submit_limit(ids(), 1, BUY, P - TICK, LOT).events[0].code == "MIN_NOTIONAL"


MARKET_FILTERS = [
    ({"quantity": LOT + 1}, "QUANTITY_LOT"),
    ({"quantity": -LOT}, "QUANTITY_NON_POSITIVE"),
    ({"quantity": None, "quote_amount": 4_999_999}, "MIN_NOTIONAL"),
    ({"quantity": None, "quote_amount": 0}, "QUOTE_NON_POSITIVE"),
    ({"quantity": None}, "MARKET_SIZE"),
    ({"quote_amount": 10_000_000}, "MARKET_SIZE"),
    ({"quantity": None, "quote_amount": 10_000_000, "side": SELL}, "MARKET_SIZE"),
    ({"side": "HOLD"}, "INVALID_SIDE"),
    ({"stp": "x"}, "INVALID_STP"),
]


@pytest.mark.parametrize(("override", "code"), MARKET_FILTERS)
def test_market_filters(book: OrderBook, override: dict, code: str) -> None:
    book.submit_limit(1, 9, SELL, P, LOT)
    before = book.snapshot()
    args = {"order_id": 2, "owner": 1, "side": BUY, "quantity": LOT} | override
    r = book.submit_market(**args)
    (event,) = r.events
    assert isinstance(event, Rejected) and event.code == code
    assert book.snapshot() == before


def test_order_ids_must_increase(book: OrderBook) -> None:
    book.submit_limit(5, 1, BUY, P, LOT)
    r = book.submit_limit(5, 1, BUY, P, LOT)
    assert r.events[0].code == "ORDER_ID_NOT_INCREASING"
    assert book.submit_market(3, 1, SELL, quantity=LOT).events[0].code == (
        "ORDER_ID_NOT_INCREASING"
    )
    assert len(book) == 1


def test_rejected_order_still_consumes_its_id(book: OrderBook) -> None:
    assert book.submit_limit(5, 1, BUY, P + 1, LOT).status == Status.REJECTED
    assert book.submit_limit(5, 1, BUY, P, LOT).events[0].code == "ORDER_ID_NOT_INCREASING"


def test_float_amounts_are_a_caller_bug(book: OrderBook) -> None:
    with pytest.raises(TypeError):
        book.submit_limit(1, 1, BUY, 65000.0, LOT)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        book.submit_market(2, 1, BUY, quote_amount=10.5)  # type: ignore[arg-type]


# --- fees ---------------------------------------------------------------------------


def test_fee_for_rounds_up_and_never_exceeds_amount() -> None:
    assert fee_for(10_000, 10) == 10
    assert fee_for(10_001, 10) == 11  # 10.001 -> 11
    assert fee_for(1, 1) == 1  # any positive fee rounds up to one minor unit
    assert fee_for(0, 10) == 0
    assert fee_for(7, 0) == 0
    assert fee_for(7, 10_000) == 7


def test_trade_fees_on_what_each_side_receives() -> None:
    # lot 0.00001 base so that base fees have fractions too (1e5 * 1e3 = base_scale).
    rules = MarketRules(tick_size=100_000, lot_size=1_000, min_notional=0, base_scale=SCALE,
                        maker_fee_bps=7, taker_fee_bps=13)  # fmt: skip
    book = OrderBook(rules)
    price = 12_345_600_000  # 12,345.6
    qty = 3_000  # 0.00003
    book.submit_limit(1, 1, SELL, price, qty)  # maker sells: receives quote
    r = book.submit_limit(2, 2, BUY, price, qty)  # taker buys: receives base
    (t,) = trades(r.events)
    assert t.notional == price * qty // SCALE == 370_368
    assert t.taker_fee == 4  # base: 3_000 * 13 / 10_000 = 3.9 -> 4
    assert t.maker_fee == 260  # quote: 370_368 * 7 / 10_000 = 259.26 -> 260
    assert r.fee == t.taker_fee

    book.submit_limit(3, 1, BUY, price, qty)  # maker buys: receives base
    r = book.submit_limit(4, 2, SELL, price, qty)  # taker sells: receives quote
    (t,) = trades(r.events)
    assert t.maker_fee == 3  # base: 3_000 * 7 / 10_000 = 2.1 -> 3
    assert t.taker_fee == 482  # quote: 370_368 * 13 / 10_000 = 481.48 -> 482


def test_zero_fee_market_charges_nothing(ids: Ids) -> None:
    book = OrderBook(MarketRules(tick_size=TICK, lot_size=LOT, min_notional=0, base_scale=SCALE))
    book.submit_limit(ids(), 1, SELL, P, LOT)
    (t,) = trades(book.submit_limit(ids(), 2, BUY, P, LOT).events)
    assert (t.maker_fee, t.taker_fee) == (0, 0)


# --- market orders ------------------------------------------------------------------


def test_market_sell_by_quantity_sweeps_bids(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, BUY, P, LOT)
    book.submit_limit(ids(), 1, BUY, P - TICK, LOT)
    r = book.submit_market(ids(), 2, SELL, quantity=2 * LOT)
    assert r.status == Status.FILLED and r.filled == 2 * LOT
    assert r.quote == notional(P, LOT) + notional(P - TICK, LOT)


def test_market_without_liquidity_expires(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, LOT)
    r = book.submit_market(ids(), 2, BUY, quantity=3 * LOT)
    assert r.filled == LOT and r.status == Status.EXPIRED
    assert r.events[-1] == Expired(r.order_id, 2 * LOT, "MARKET_NO_LIQUIDITY")


def test_market_buy_by_quote_rounds_down_to_lots(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, 2 * LOT)
    book.submit_limit(ids(), 1, SELL, P + TICK, 10 * LOT)
    lot_cost_1 = notional(P, LOT)
    lot_cost_2 = notional(P + TICK, LOT)
    budget = 2 * lot_cost_1 + 3 * lot_cost_2 + lot_cost_2 // 2  # 5.5 lots
    r = book.submit_market(ids(), 2, BUY, quote_amount=budget)
    assert r.filled == 5 * LOT
    assert r.quote == 2 * lot_cost_1 + 3 * lot_cost_2 <= budget
    assert r.status == Status.FILLED and r.remaining == budget - r.quote
    assert not any(isinstance(e, Expired) for e in r.events)
    assert book.depth(1) == ([], [(P + TICK, 7 * LOT)])


def test_market_buy_by_quote_runs_out_of_liquidity(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, LOT)
    budget = 10 * notional(P, LOT)
    r = book.submit_market(ids(), 2, BUY, quote_amount=budget)
    assert r.filled == LOT and r.status == Status.EXPIRED
    assert r.events[-1] == Expired(r.order_id, budget - notional(P, LOT), "MARKET_NO_LIQUIDITY")


def test_market_buy_by_quote_below_one_lot(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, LOT)
    budget = notional(P, LOT) - 1
    r = book.submit_market(ids(), 2, BUY, quote_amount=budget)
    assert r.filled == 0
    assert r.events[-1] == Expired(r.order_id, budget, "INSUFFICIENT_BUDGET")


def test_market_buy_cost_matches_the_fill(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, LOT)
    book.submit_limit(ids(), 7, SELL, P + TICK, 2 * LOT)
    book.submit_limit(ids(), 1, SELL, P + 2 * TICK, 3 * LOT)
    assert book.market_buy_cost(2 * LOT) == (2 * LOT, notional(P, LOT) + notional(P + TICK, LOT))
    assert book.market_buy_cost(100 * LOT)[0] == 6 * LOT
    # Owner 7's own ask is skipped: the next level prices the second lot.
    cost = book.market_buy_cost(2 * LOT, owner=7)
    assert cost == (2 * LOT, notional(P, LOT) + notional(P + 2 * TICK, LOT))
    before = book.snapshot()
    assert book.snapshot() == before  # no mutation
    r = book.submit_market(ids(), 7, BUY, quantity=2 * LOT, stp=STP.EXPIRE_MAKER)
    assert r.quote == cost[1]


def test_market_sell_quantity_receives_at_most_the_amount(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, BUY, P, 2 * LOT)
    book.submit_limit(ids(), 7, BUY, P - TICK, 2 * LOT)
    book.submit_limit(ids(), 1, BUY, P - 2 * TICK, 3 * LOT)
    both_best = notional(P, 2 * LOT)
    assert book.market_sell_quantity(both_best) == 2 * LOT
    # One unit short of a whole second lot: one lot, not an overshoot.
    assert book.market_sell_quantity(notional(P, 2 * LOT) - 1) == LOT
    # It does not reach past a level it does not empty, where matching would fill first.
    wanted = both_best + notional(P - TICK, LOT) + notional(P - 2 * TICK, LOT)
    assert book.market_sell_quantity(wanted) == 3 * LOT
    assert book.market_sell_quantity(10**15) == 7 * LOT
    assert book.market_sell_quantity(notional(P, LOT) - 1) == 0
    # Owner 7's own bid is skipped: the cheaper level after it gives the rest (two lots).
    assert book.market_sell_quantity(wanted, owner=7) == 4 * LOT
    before = book.snapshot()
    quantity = book.market_sell_quantity(wanted, owner=7)
    assert book.snapshot() == before  # no mutation
    r = book.submit_market(ids(), 7, SELL, quantity=quantity, stp=STP.EXPIRE_MAKER)
    assert r.status is Status.FILLED
    assert r.quote == both_best + notional(P - 2 * TICK, 2 * LOT) <= wanted


def test_market_sell_quantity_of_an_empty_book(book: OrderBook) -> None:
    assert book.market_sell_quantity(notional(P, LOT)) == 0


# --- restore / snapshot ------------------------------------------------------------------


def test_load_rebuilds_priority_from_ids(book: OrderBook, ids: Ids) -> None:
    for owner in (1, 2, 3):
        book.submit_limit(ids(), owner, SELL, P, LOT)
    book.submit_limit(ids(), 4, BUY, P - TICK, 2 * LOT)
    book.submit_limit(ids(), 5, BUY, P, 3 * LOT, TimeInForce.IOC)  # fills 1, 2 and 3
    book.submit_limit(ids(), 6, SELL, P + TICK, 2 * LOT)
    book.submit_limit(ids(), 7, SELL, P + TICK, 2 * LOT)
    resting = [book.get(i) for i in range(1, ids.n + 1) if i in book]
    fresh = OrderBook(RULES)
    fresh.load(reversed(resting))  # type: ignore[arg-type]
    assert fresh.snapshot() == book.snapshot()
    assert fresh.submit_limit(ids.n, 1, BUY, P, LOT).events[0].code == "ORDER_ID_NOT_INCREASING"


def test_restore_rejects_crossing_and_duplicates(book: OrderBook) -> None:
    book.restore(RestingOrder(10, 1, SELL, P, 2 * LOT, LOT))
    with pytest.raises(ValueError, match="cross"):
        book.restore(RestingOrder(11, 1, BUY, P, LOT, LOT))
    with pytest.raises(ValueError, match="already"):
        book.restore(RestingOrder(10, 1, SELL, P, LOT, LOT))
    with pytest.raises(ValueError, match="quantities"):
        book.restore(RestingOrder(12, 1, SELL, P, LOT, 2 * LOT))
    assert book.get(10) == RestingOrder(10, 1, SELL, P, 2 * LOT, LOT)


def test_restore_inserts_older_id_ahead_in_queue(book: OrderBook) -> None:
    book.restore(RestingOrder(20, 1, SELL, P, LOT, LOT))
    book.restore(RestingOrder(10, 2, SELL, P, LOT, LOT))
    r = book.submit_limit(30, 3, BUY, P, LOT)
    assert trades(r.events)[0].maker_order_id == 10


def test_reduce_mirrors_a_fill_made_elsewhere_and_keeps_the_queue_place() -> None:
    # Two copies of one book: a fill on the first is applied to the second by `reduce`.
    here, there = OrderBook(RULES), OrderBook(RULES)
    for book in (here, there):
        book.restore(RestingOrder(1, 1, SELL, P, 3 * LOT, 3 * LOT))
        book.restore(RestingOrder(2, 2, SELL, P, LOT, LOT))
    here.submit_limit(3, 3, BUY, P, LOT)
    there.reduce(1, 2 * LOT)
    assert there.snapshot() == here.snapshot()
    assert there.depth(1) == ([], [(P, 3 * LOT)])
    assert trades(there.submit_limit(4, 4, BUY, P, LOT).events)[0].maker_order_id == 1
    for bad in (0, 2 * LOT, -LOT):  # only a real reduction of a resting order
        with pytest.raises(ValueError, match="reduce"):
            there.reduce(1, bad)
    with pytest.raises(ValueError, match="not in the book"):
        there.reduce(99, LOT)


def test_orders_of_lists_an_owners_resting_orders(book: OrderBook, ids: Ids) -> None:
    book.submit_limit(ids(), 1, SELL, P, LOT)
    book.submit_limit(ids(), 2, SELL, P, LOT)
    book.submit_limit(ids(), 1, BUY, P - TICK, LOT)
    assert [o.order_id for o in book.orders_of(1)] == [1, 3]
    assert book.orders_of(3) == []
