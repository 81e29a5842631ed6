"""The engine's GC contract: no reference cycles, resting orders invisible to the GC."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bitchange.engine import STP, MarketRules, OrderBook, RestingOrder, Side, gc_policy

TICK, LOT, SCALE = 10_000, 10_000, 10**8
P = 65_000_000_000
RULES = MarketRules(tick_size=TICK, lot_size=LOT, min_notional=0, base_scale=SCALE,
                    maker_fee_bps=10, taker_fee_bps=20)  # fmt: skip


@pytest.fixture
def gc_state() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    if enabled:
        gc.enable()


def exercise(book: OrderBook) -> list:
    """Every code path that allocates: rest, sweep, STP, quote budget, cancel, restore."""
    out: list = []
    i = 0
    for round_ in range(50):
        for k in range(10):
            i += 1
            side = Side.BUY if k % 2 else Side.SELL
            price = P - (k + 1) * TICK if side == Side.BUY else P + (k + 1) * TICK
            out.append(book.submit_limit(i, k % 3, side, price, (k + 1) * LOT))
        i += 1
        out.append(book.submit_limit(i, 1, Side.BUY, P + 5 * TICK, 7 * LOT, stp=STP.EXPIRE_MAKER))
        i += 1
        out.append(book.submit_market(i, 2, Side.SELL, quantity=5 * LOT, stp=STP.EXPIRE_BOTH))
        i += 1
        out.append(book.submit_market(i, 0, Side.BUY, quote_amount=10**9))
        out.append(book.cancel(i - 5))
        out.append(book.cancel(i - 5))  # rejected
        out.append(book.depth(5))
        out.append(book.snapshot())
        out.append(book.market_buy_cost(10 * LOT, owner=round_ % 3))
    i += 1
    book.restore(RestingOrder(i, 9, Side.BUY, TICK, LOT, LOT))
    return out


def test_engine_creates_no_reference_cycles(gc_state: None) -> None:
    gc.collect()
    gc.disable()
    book = OrderBook(RULES)
    results = exercise(book)
    assert any(r.events[1:] for r in results if hasattr(r, "events"))  # trades happened
    del book, results
    assert gc.collect() == 0  # refcounting freed everything: nothing cyclic was left


def test_resting_orders_add_almost_no_gc_tracked_objects(gc_state: None) -> None:
    book = OrderBook(RULES)
    gc.collect()
    before = len(gc.get_objects())
    for i in range(1, 20_001):
        side = Side.BUY if i % 2 else Side.SELL
        price = P - (i % 20 + 1) * TICK if side == Side.BUY else P + (i % 20 + 1) * TICK
        book.submit_limit(i, i, side, price, LOT)
    gc.collect()  # the first collection untracks the per-order tuples of ints
    added = len(gc.get_objects()) - before
    assert len(book) == 20_000
    assert added < 100  # one deque per level (40 levels), not one object per order


def test_apply_freezes_and_raises_thresholds(gc_state: None) -> None:
    gc_policy.apply(gen0=12_345)
    assert gc.get_threshold()[0] == 12_345
    assert gc.get_freeze_count() > 0
    gc_policy.restore_defaults()
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == (700, 10, 10)


def test_checkpoint_freezes_survivors(gc_state: None) -> None:
    gc_policy.apply()
    keep = [[n] for n in range(1000)]  # new tracked, long-lived objects
    kept = {id(x) for x in keep}
    assert sum(id(o) in kept for o in gc.get_objects()) == 1000  # in the collected generations
    gc_policy.checkpoint()
    # Frozen: out of every generation a collection walks. (Not the freeze count: objects
    # frozen before, freed meanwhile by other threads of the test process, lower it.)
    assert not any(id(o) in kept for o in gc.get_objects())
    assert keep


def test_paused_disables_and_restores(gc_state: None) -> None:
    gc.enable()
    with gc_policy.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
