"""The pending conditional orders of one market, kept sorted by the price that sets them off.

Every list holds ``(key, order_id)`` pairs in ascending order, so what one trade price sets
off is always a prefix (found by bisection, cut in one slice) and never a scan:

* ``_up``    fires when the price rises to ``key``: static stops with the condition
  "last >= stop" (STOP_LOSS BUY, TAKE_PROFIT SELL) and tracking trailing BUYs (their level is
  the lowest price since tracking started, plus the delta);
* ``_down``  fires when the price falls to ``-key``: static "last <= stop" stops (STOP_LOSS
  SELL, TAKE_PROFIT BUY) and tracking trailing SELLs (highest price, minus the delta);
* ``_up_arm`` / ``_down_arm``: trailing orders whose ``stop_price`` (their activation price)
  has not been touched yet; ``_arm_any``: trailing orders without one, in a market that has
  not traded yet (they start tracking at the first trade);
* ``_highs`` ``(extreme, id)`` of tracking SELLs and ``_lows`` ``(-extreme, id)`` of tracking
  BUYs: a new high (low) moves only the orders whose extreme it passes, again a prefix.

The order in which one price's hits are returned is the direction of the move: a rising price
sets off the lowest trigger first (``_up`` is ascending), a falling one the highest; equal
triggers go by order id (time). Pure and deterministic: the same orders and prices give the
same hits and the same state, whatever the history of inserts and removals.
"""

from __future__ import annotations

from bisect import bisect_left, insort

from bitchange.engine.types import BPS_DENOMINATOR, PendingOrder, Side

_Key = tuple[int, int]
_NOTHING: tuple[list[PendingOrder], list[tuple[int, int]]] = ([], [])  # never mutated


def trail_level(side: Side, extreme: int, delta: int) -> int:
    """The trade price that triggers a tracking trailing order: a SELL at or below the highest
    price less ``delta`` bps (rounded down), a BUY at or above the lowest plus ``delta`` bps
    (rounded up). ``p <= level`` (SELL) is then exactly ``p * 10000 <= extreme * (10000 -
    delta)``, and ``p >= level`` (BUY) exactly ``p * 10000 >= extreme * (10000 + delta)``."""
    if side == Side.SELL:
        return extreme * (BPS_DENOMINATOR - delta) // BPS_DENOMINATOR
    return -(-extreme * (BPS_DENOMINATOR + delta) // BPS_DENOMINATOR)


class Triggers:
    """Pending orders of one market. Not thread-safe (the book it belongs to is not)."""

    __slots__ = ("_arm_any", "_down", "_down_arm", "_highs", "_lows", "_orders", "_slot",
                 "_up", "_up_arm")

    def __init__(self) -> None:
        self._orders: dict[int, PendingOrder] = {}
        # Where each order's trigger (or activation) entry is: the list and its key.
        self._slot: dict[int, tuple[list[_Key], _Key]] = {}
        self._up: list[_Key] = []
        self._down: list[_Key] = []
        self._up_arm: list[_Key] = []
        self._down_arm: list[_Key] = []
        self._arm_any: list[int] = []
        self._highs: list[_Key] = []
        self._lows: list[_Key] = []

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def get(self, order_id: int) -> PendingOrder | None:
        return self._orders.get(order_id)

    def orders(self) -> list[PendingOrder]:
        """Every pending order, by id."""
        return [self._orders[i] for i in sorted(self._orders)]

    def add(self, order: PendingOrder) -> None:
        """File ``order`` by its state: tracking (``extreme`` set), waiting for its activation
        price, or a static stop. Raises ``ValueError`` for a duplicate id."""
        order_id = order.order_id
        if order_id in self._orders:
            raise ValueError(f"order {order_id} is already pending")
        self._orders[order_id] = order
        if order.trailing_delta is None:
            stop = order.stop_price
            assert stop is not None
            if order.above:
                self._file(order_id, self._up, (stop, order_id))
            else:
                self._file(order_id, self._down, (-stop, order_id))
        elif order.extreme is not None:
            self._track(order, order.extreme)
        elif order.stop_price is None:
            self._arm_any.append(order_id)
        elif order.above:
            self._file(order_id, self._up_arm, (order.stop_price, order_id))
        else:
            self._file(order_id, self._down_arm, (-order.stop_price, order_id))

    def remove(self, order_id: int) -> PendingOrder | None:
        """Take ``order_id`` out (cancelled); None if it is not pending."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        slot = self._slot.pop(order_id, None)
        if slot is None:
            self._arm_any.remove(order_id)
        else:
            entries, key = slot
            del entries[bisect_left(entries, key)]
        if order.trailing_delta is not None and order.extreme is not None:
            self._drop_extreme(order)
        return order

    def move(self, price: int, rising: bool) -> tuple[list[PendingOrder], list[tuple[int, int]]]:
        """A trade at ``price`` (``rising``: not below the previous last price). Returns the
        orders it triggers, in activation order, already removed; and ``(order_id, extreme)``
        of every trailing order that started tracking or moved its extreme."""
        up, down, highs, lows = self._up, self._down, self._highs, self._lows
        up_arm, down_arm = self._up_arm, self._down_arm
        if not ((up and up[0][0] <= price) or (down and down[0][0] <= -price)
                or (highs and highs[0][0] < price) or (lows and lows[0][0] < -price)
                or (up_arm and up_arm[0][0] <= price) or (down_arm and down_arm[0][0] <= -price)
                or self._arm_any):
            return _NOTHING  # the common trade: one look at each list's head
        trails: list[tuple[int, int]] = []
        orders = self._orders
        # Trailing orders whose activation price this trade touches start tracking at it.
        started: list[_Key] = []
        if up_arm and up_arm[0][0] <= price:
            started += self._cut(up_arm, bisect_left(up_arm, (price + 1,)))
        if down_arm and down_arm[0][0] <= -price:
            started += self._cut(down_arm, bisect_left(down_arm, (-price + 1,)))
        if self._arm_any:
            started += [(0, i) for i in self._arm_any]
            self._arm_any.clear()
        if started:
            for _, order_id in sorted(started, key=lambda k: k[1]):
                self._slot.pop(order_id, None)
                self._track(orders[order_id], price)
                trails.append((order_id, price))
        # A new high lifts the tracking SELLs below it; a new low lowers the BUYs above it.
        if self._highs and self._highs[0][0] < price:
            for _, order_id in self._cut(self._highs, bisect_left(self._highs, (price,))):
                self._retrack(orders[order_id], price)
                trails.append((order_id, price))
        if self._lows and self._lows[0][0] < -price:
            for _, order_id in self._cut(self._lows, bisect_left(self._lows, (-price,))):
                self._retrack(orders[order_id], price)
                trails.append((order_id, price))
        hits: list[PendingOrder] = []
        ups = bool(self._up) and self._up[0][0] <= price
        downs = bool(self._down) and self._down[0][0] <= -price
        if ups or downs:
            up = self._cut(self._up, bisect_left(self._up, (price + 1,))) if ups else []
            down = self._cut(self._down, bisect_left(self._down, (-price + 1,))) if downs else []
            for _, order_id in (up + down if rising else down + up):
                del self._slot[order_id]
                order = orders.pop(order_id)
                if order.trailing_delta is not None:
                    self._drop_extreme(order)
                hits.append(order)
        return hits, trails

    # --- internals ------------------------------------------------------------------------

    def _file(self, order_id: int, entries: list[_Key], key: _Key) -> None:
        insort(entries, key)
        self._slot[order_id] = (entries, key)

    @staticmethod
    def _cut(entries: list[_Key], end: int) -> list[_Key]:
        if not end:
            return []
        head = entries[:end]
        del entries[:end]
        return head

    def _track(self, order: PendingOrder, extreme: int) -> None:
        """Start (or restore) tracking at ``extreme``: file its trigger level and extreme."""
        order_id = order.order_id
        self._orders[order_id] = order._replace(extreme=extreme)
        delta = order.trailing_delta
        assert delta is not None
        level = trail_level(order.side, extreme, delta)
        if order.side == Side.SELL:
            insort(self._highs, (extreme, order_id))
            self._file(order_id, self._down, (-level, order_id))
        else:
            insort(self._lows, (-extreme, order_id))
            self._file(order_id, self._up, (level, order_id))

    def _retrack(self, order: PendingOrder, extreme: int) -> None:
        """A tracking order's extreme moved (its entry in highs/lows was cut already)."""
        entries, key = self._slot.pop(order.order_id)
        del entries[bisect_left(entries, key)]
        self._track(order, extreme)

    def _drop_extreme(self, order: PendingOrder) -> None:
        assert order.extreme is not None
        if order.side == Side.SELL:
            entries, key = self._highs, (order.extreme, order.order_id)
        else:
            entries, key = self._lows, (-order.extreme, order.order_id)
        index = bisect_left(entries, key)
        if index < len(entries) and entries[index] == key:
            del entries[index]
