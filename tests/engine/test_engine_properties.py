"""Property tests: random command streams against the engine's invariants."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitchange.engine import (
    STP,
    Accepted,
    Cancelled,
    Expired,
    MarketRules,
    OrderBook,
    Rejected,
    Side,
    Status,
    TimeInForce,
    Trade,
)

TICK, LOT, SCALE = 10_000, 10_000, 10**8
MID = 1_000 * TICK  # one lot at MID is worth 1_000: 1-lot orders fail MIN_NOTIONAL
RULES = MarketRules(tick_size=TICK, lot_size=LOT, min_notional=2_000, base_scale=SCALE,
                    maker_fee_bps=10, taker_fee_bps=25)  # fmt: skip


# A command is a tuple; ids are assigned in stream order when it is run.
def _command(draw: tuple) -> tuple:
    kind, owner, is_buy, offset, lots, tif, post_only, stp, budget, index = draw
    side = Side.BUY if is_buy else Side.SELL
    if kind < 55:
        return ("limit", owner, side, MID + offset * TICK, lots * LOT, tif, post_only, stp)
    if kind < 70:
        return ("market", owner, side, lots * LOT, stp)
    if kind < 78:
        return ("quote", owner, budget, stp)
    if kind < 95:
        return ("cancel", index)
    return ("bad", owner)  # off-tick price: rejected


command = st.tuples(
    st.integers(0, 99),  # kind, weighted by _command
    st.integers(1, 3),  # few owners: self-trades happen
    st.booleans(),
    st.integers(-6, 6),  # price offset from MID in ticks
    st.integers(1, 6),  # lots; one lot fails MIN_NOTIONAL
    st.sampled_from([TimeInForce.GTC] * 3 + [TimeInForce.IOC, TimeInForce.FOK]),
    st.sampled_from([False] * 5 + [True]),  # post-only
    st.sampled_from(list(STP)),
    st.integers(1, 40).map(lambda n: n * 250),  # quote budget: about 0.25..10 lots
    st.integers(0, 12),  # which recent order a cancel targets
).map(_command)
commands = st.lists(command, min_size=10, max_size=100)

PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(commands: list[tuple], book: OrderBook, check: Any = None) -> list[Any]:
    """Apply a command log; returns everything the engine answered, in order."""
    out: list[Any] = []
    issued: list[int] = []
    next_id = 100
    for cmd in commands:
        kind = cmd[0]
        if kind == "cancel":
            target = issued[-1 - cmd[1] % len(issued)] if issued else 1
            out.append(book.cancel(target))
        else:
            next_id += 1
            issued.append(next_id)
            if kind == "limit":
                _, owner, side, price, qty, tif, post_only, stp = cmd
                r = book.submit_limit(next_id, owner, side, price, qty, tif, post_only, stp)
            elif kind == "market":
                _, owner, side, qty, stp = cmd
                r = book.submit_market(next_id, owner, side, quantity=qty, stp=stp)
            elif kind == "quote":
                _, owner, budget, stp = cmd
                r = book.submit_market(next_id, owner, Side.BUY, quote_amount=budget, stp=stp)
            else:
                r = book.submit_limit(next_id, cmd[1], Side.BUY, MID + 1, LOT)
            out.append(r)
        if check is not None:
            check(cmd, out[-1])
    return out


def assert_not_crossed(book: OrderBook) -> None:
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is None or ask is None or bid < ask


@PROPS
@given(commands)
def test_invariants_hold_after_every_command(cmds: list[tuple]) -> None:
    book = OrderBook(RULES)
    sizes: dict[int, int] = {}  # order id -> quantity (base orders only)
    filled: dict[int, int] = defaultdict(int)  # order id -> base filled, maker + taker side

    def check(cmd: tuple, answer: Any) -> None:
        assert_not_crossed(book)
        events = [answer] if isinstance(answer, Cancelled | Rejected) else answer.events
        if not isinstance(answer, Cancelled | Rejected):
            if answer.status == Status.REJECTED:
                assert cmd[0] == "bad" or len(events) == 1
                assert isinstance(events[0], Rejected)
            else:
                assert events[0] == Accepted(answer.order_id)
            if cmd[0] in ("limit", "market"):
                sizes[answer.order_id] = cmd[4] if cmd[0] == "limit" else cmd[3]
        taker_filled = 0
        taker_quote = 0
        for e in events:
            if not isinstance(e, Trade):
                continue
            assert e.price % TICK == 0 and e.quantity % LOT == 0 and e.quantity > 0
            assert e.price * e.quantity % SCALE == 0  # exact notional
            assert e.notional == e.price * e.quantity // SCALE
            assert e.maker_owner != e.taker_owner  # self-trade prevention
            buyer_fee, seller_fee = (
                (e.taker_fee, e.maker_fee)
                if e.taker_side == Side.BUY
                else (e.maker_fee, e.taker_fee)
            )
            buyer_bps, seller_bps = (25, 10) if e.taker_side == Side.BUY else (10, 25)
            assert buyer_fee == -(-e.quantity * buyer_bps // 10_000)  # ceil, in base
            assert seller_fee == -(-e.notional * seller_bps // 10_000)  # ceil, in quote
            assert 0 <= buyer_fee <= e.quantity and 0 <= seller_fee <= e.notional
            filled[e.maker_order_id] += e.quantity
            filled[e.taker_order_id] += e.quantity
            taker_filled += e.quantity
            taker_quote += e.notional
            maker = book.get(e.maker_order_id)
            if e.maker_remaining == 0:
                assert maker is None
        if not isinstance(answer, Cancelled | Rejected):
            assert answer.filled == taker_filled and answer.quote == taker_quote
            if cmd[0] == "limit" and cmd[6]:  # post-only never takes
                assert taker_filled == 0
            if cmd[0] == "quote":
                assert taker_quote <= cmd[2]
        # Per-order fills add up on both sides and never exceed the order.
        for order_id, qty in sizes.items():
            assert filled[order_id] <= qty
            resting = book.get(order_id)
            if resting is not None:
                assert resting.quantity == qty
                assert resting.quantity - resting.remaining == filled[order_id]
        # Level aggregates agree with the orders.
        bids, asks = book.snapshot()
        depth = book.depth(100)
        assert depth[0] == [(p, sum(o[3] for o in orders)) for p, orders in bids]
        assert depth[1] == [(p, sum(o[3] for o in orders)) for p, orders in asks]
        assert len(book) == sum(len(orders) for _, orders in bids + asks)

    run(cmds, book, check)


@PROPS
@given(commands)
def test_replay_is_deterministic(cmds: list[tuple]) -> None:
    first, second = OrderBook(RULES), OrderBook(RULES)
    assert run(cmds, first) == run(cmds, second)
    assert first.snapshot() == second.snapshot()


@PROPS
@given(commands, st.randoms(use_true_random=False))
def test_restoring_resting_orders_rebuilds_the_same_book(
    cmds: list[tuple], rnd: random.Random
) -> None:
    book = OrderBook(RULES)
    run(cmds, book)
    resting = resting_orders(book)
    rnd.shuffle(resting)
    fresh = OrderBook(RULES)
    fresh.load(resting)
    assert fresh.snapshot() == book.snapshot()
    assert fresh.depth(100) == book.depth(100)
    # And both books keep behaving identically afterwards.
    tail = [("market", 1, Side.BUY, 4 * LOT, STP.EXPIRE_MAKER),
            ("market", 2, Side.SELL, 4 * LOT, STP.EXPIRE_MAKER)]  # fmt: skip
    start = max([o.order_id for o in resting], default=0)
    for i, cmd in enumerate(tail, start=start + 10_000):
        a = book.submit_market(i, cmd[1], cmd[2], quantity=cmd[3], stp=cmd[4])
        b = fresh.submit_market(i, cmd[1], cmd[2], quantity=cmd[3], stp=cmd[4])
        assert a == b
    assert fresh.snapshot() == book.snapshot()


@PROPS
@given(commands)
def test_market_buy_cost_bounds_the_real_spend(cmds: list[tuple]) -> None:
    book = OrderBook(RULES)
    run(cmds, book)
    for owner in (1, 2):
        for stp in STP:
            probe = OrderBook(RULES)
            probe.load(resting_orders(book))
            fillable, cost = probe.market_buy_cost(5 * LOT, owner=owner)
            r = probe.submit_market(10**9, owner, Side.BUY, quantity=5 * LOT, stp=stp)
            assert r.filled <= fillable and r.quote <= cost
            if stp == STP.EXPIRE_MAKER:
                assert (r.filled, r.quote) == (fillable, cost)


def resting_orders(book: OrderBook) -> list:
    return [o for owner in (1, 2, 3) for o in book.orders_of(owner)]


def test_expired_events_carry_known_reasons() -> None:
    """Smoke over a fixed stream: every Expired reason is one of the documented ones."""
    rnd = random.Random(7)
    book = OrderBook(RULES)
    cmds: list[tuple] = []
    for _ in range(2_000):
        cmds.append(("limit", rnd.randint(1, 3), rnd.choice([Side.BUY, Side.SELL]),
                     MID + rnd.randint(-6, 6) * TICK, rnd.randint(1, 6) * LOT,
                     rnd.choice(list(TimeInForce)), False, rnd.choice(list(STP))))  # fmt: skip
        cmds.append(("market", rnd.randint(1, 3), rnd.choice([Side.BUY, Side.SELL]),
                     rnd.randint(1, 10) * LOT, rnd.choice(list(STP))))  # fmt: skip
    reasons = {
        e.reason
        for r in run(cmds, book)
        if not isinstance(r, Cancelled | Rejected)
        for e in r.events
        if isinstance(e, Expired)
    }
    assert reasons <= {"IOC", "FOK", "STP", "MARKET_NO_LIQUIDITY", "INSUFFICIENT_BUDGET"}
    assert {"IOC", "FOK", "STP", "MARKET_NO_LIQUIDITY"} <= reasons
