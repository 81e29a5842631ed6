"""Property test: the engine's sorted trigger structures against a reference model that keeps
pending orders in a plain list and scans it after every trade price."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitchange.engine import (
    Expired,
    MarketRules,
    OrderBook,
    PendingOrder,
    Side,
    Status,
    Trade,
    Trailing,
    Triggered,
    trail_level,
)

TICK, LOT, SCALE = 100, 1_000_000, 10**8
RULES = MarketRules(tick_size=TICK, lot_size=LOT, min_notional=0, base_scale=SCALE)
MID = 10_000


@dataclass
class _Ref:
    order: PendingOrder
    extreme: int | None


class Reference:
    """Matching by a plain book (no pending orders in it); triggers by a linear scan."""

    def __init__(self) -> None:
        self.book = OrderBook(RULES)
        self.pending: list[_Ref] = []
        self.last: int | None = None

    def conditional(self, order: PendingOrder) -> Status:
        if order.stop_price is not None and self.last is not None and (
                self.last >= order.stop_price if order.above else self.last <= order.stop_price):
            self.book._last_id = order.order_id
            return Status.REJECTED
        self.book._last_id = order.order_id
        extreme = self.last if order.trailing_delta is not None and order.stop_price is None \
            else None
        self.pending.append(_Ref(order, extreme))
        return Status.PENDING

    def cancel(self, order_id: int) -> None:
        self.book.cancel(order_id)
        self.pending = [r for r in self.pending if r.order.order_id != order_id]

    def run(self, result) -> list:  # type: ignore[no-untyped-def]
        events = list(result.events)
        queue: list[tuple[PendingOrder, int]] = []
        start = 0
        while True:
            for event in events[start:]:
                if type(event) is Trade:
                    self._price(event.price, queue)
            if not queue:
                return events
            order, price = queue.pop(0)
            start = len(events)
            if order.price is not None:
                run = self.book._limit(order.order_id, order.owner, order.side, order.price,
                                       order.quantity, order.tif, False, order.stp)
            else:
                run = self.book._market(order.order_id, order.owner, order.side,
                                        order.quantity, order.quote_amount, order.stp)
            own = [e for e in run.events if type(e) is Expired and e.order_id == order.order_id]
            events += [e for e in run.events[1:] if e not in own]
            events.append(Triggered(order.order_id, price, run.status, run.filled, run.quote,
                                    run.fee, run.remaining, run.resting,
                                    own[0].reason if own else ""))

    def _price(self, price: int, queue: list) -> None:
        rising = self.last is None or price >= self.last
        armed = set()
        for ref in self.pending:
            o = ref.order
            if o.trailing_delta is not None and ref.extreme is None and (
                    o.stop_price is None
                    or (price >= o.stop_price if o.above else price <= o.stop_price)):
                ref.extreme = price
                armed.add(o.order_id)
        for ref in self.pending:
            o = ref.order
            if ref.extreme is not None and o.order_id not in armed:
                ref.extreme = max(ref.extreme, price) if o.side is Side.SELL \
                    else min(ref.extreme, price)
        ups, downs = [], []
        for ref in self.pending:
            o = ref.order
            if o.trailing_delta is None:
                level, up = o.stop_price, o.above
            elif ref.extreme is None:
                continue
            else:
                level, up = trail_level(o.side, ref.extreme, o.trailing_delta), o.side is Side.BUY
            if up and price >= level:
                ups.append((level, o.order_id, ref))
            elif not up and price <= level:
                downs.append((-level, o.order_id, ref))
        hits = sorted(ups) + sorted(downs) if rising else sorted(downs) + sorted(ups)
        for _, _, ref in hits:
            self.pending.remove(ref)
            queue.append((ref.order, price))
        self.last = price

    def state(self) -> tuple:
        pending = tuple(sorted((r.order._replace(extreme=r.extreme) for r in self.pending),
                               key=lambda o: o.order_id))
        return self.last, pending, ()


def _command(draw: tuple) -> tuple:
    kind, owner, is_buy, offset, lots, above, delta, limit, index = draw
    side = Side.BUY if is_buy else Side.SELL
    if kind < 45:
        return ("limit", owner, side, MID + offset * TICK, lots * LOT)
    if kind < 55:
        return ("market", owner, side, lots * LOT)
    if kind < 90:
        stop = None if delta and kind % 3 == 0 else MID + offset * TICK
        price = MID + (offset + (3 if is_buy else -3)) * TICK if limit else None
        return ("stop", owner, side, above, stop, delta, price, lots * LOT)
    return ("cancel", index)


command = st.tuples(
    st.integers(0, 99), st.integers(1, 3), st.booleans(), st.integers(-8, 8),
    st.integers(1, 4), st.booleans(), st.sampled_from([None, None, 50, 200, 500]),
    st.booleans(), st.integers(0, 15),
).map(_command)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(command, min_size=5, max_size=80))
def test_engine_matches_the_reference_model(stream: list[tuple]) -> None:
    book, ref = OrderBook(RULES), Reference()
    ids: list[int] = []
    fired: list[int] = []
    for n, cmd in enumerate(stream, start=1):
        if cmd[0] == "limit":
            _, owner, side, price, qty = cmd
            got = book.submit_limit(n, owner, side, price, qty)
            want = ref.run(ref.book.submit_limit(n, owner, side, price, qty))
        elif cmd[0] == "market":
            _, owner, side, qty = cmd
            got = book.submit_market(n, owner, side, qty)
            want = ref.run(ref.book.submit_market(n, owner, side, qty))
        elif cmd[0] == "stop":
            _, owner, side, above, stop, delta, price, qty = cmd
            order = PendingOrder(n, owner, side, above, stop, delta, price, qty)
            got = book.submit_conditional(order)
            assert got.status is ref.conditional(order)
            ids.append(n)
            continue
        else:
            if not ids:
                continue
            target = ids[-1 - cmd[1] % len(ids)]
            book.cancel(target)
            ref.cancel(target)
            continue
        ids.append(n)
        assert [e for e in got.events if type(e) is not Trailing] == want
        fired += [e.order_id for e in want if type(e) is Triggered]
        assert book.last_price == ref.last
        assert book.trigger_snapshot() == ref.state()
        assert book.snapshot() == ref.book.snapshot()
    # Every triggered order ran once, and is no longer pending.
    assert len(fired) == len(set(fired))
    assert not {o.order_id for o in book.pending_orders()} & set(fired)
