"""Price-time priority limit order book for one market.

Data layout (chosen for speed, short pauses and the garbage collector, see
``gc_policy``):

* A price level is a ``deque`` of order ids (ints) in time priority plus its total
  open quantity. Levels live in ONE dict keyed by a signed key: ``+price`` for bids,
  ``-price`` for asks. Each side keeps its keys in an ascending list, so the best
  level of either side is ``keys[-1]`` and "crosses a limit" is ``key >= -own_key``;
  one matching loop serves both sides.
* Per-order state is an immutable tuple ``(remaining, owner, key, quantity)`` of
  ints in a dict keyed by order id. Tuples of ints are untracked by CPython's GC
  after the first young collection, so resting orders cost the cyclic GC nothing.
  The id map is split into ``_SHARDS`` dicts by the id's low bits: a Python dict
  doubles by copying all entries, which at 300k orders is a ~10 ms stall; shards
  keep each copy small (and spread in time).
* Cancel is O(1): the id leaves the map and stays in its deque as a tombstone;
  matching drops tombstones when it meets them, and a level compacts itself when
  tombstones outnumber live ids. An empty level is removed at once.

Order ids come from the caller and must be strictly increasing across submits
(id order = time priority); that also means a tombstone can never be mistaken for
a newer order, and ``restore`` can rebuild the exact queue order from ids alone.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable

from bitchange.engine.triggers import Triggers
from bitchange.engine.types import (
    BPS_DENOMINATOR,
    STP,
    Accepted,
    Cancelled,
    Event,
    Expired,
    MarketRules,
    PendingOrder,
    Rejected,
    RestingOrder,
    Side,
    Status,
    SubmitResult,
    TimeInForce,
    Trade,
    Trailing,
    Triggered,
)

# Module-level aliases for the hot paths (attribute lookups on enum classes cost).
BUY = Side.BUY
SELL = Side.SELL
GTC = TimeInForce.GTC
IOC = TimeInForce.IOC
FOK = TimeInForce.FOK
EXPIRE_TAKER = STP.EXPIRE_TAKER
EXPIRE_MAKER = STP.EXPIRE_MAKER
EXPIRE_BOTH = STP.EXPIRE_BOTH
_STPS = frozenset(STP)
_TIFS = frozenset(TimeInForce)
_NEW = Status.NEW
_PARTIAL = Status.PARTIALLY_FILLED
_FILLED = Status.FILLED
_EXPIRED = Status.EXPIRED
_REJECTED = Status.REJECTED
_PENDING = Status.PENDING
_BPS = BPS_DENOMINATOR
_NO_LIMIT = -(1 << 256)  # below every key: "match at any price" (kept an int)
_COMPACT_MIN = 32  # tombstones tolerated per level before compaction is considered
_SHARDS = 64  # id-map shards (power of two); see module doc
_MASK = _SHARDS - 1

# Snapshot image of one side: levels best first, (price, ((id, owner, qty, remaining),..)).
SideImage = tuple[tuple[int, tuple[tuple[int, int, int, int], ...]], ...]
Snapshot = tuple[SideImage, SideImage]
# Per-order state: (remaining, owner, key, quantity); key = +price bid / -price ask.
_OrderState = tuple[int, int, int, int]

# NamedTuple.__new__ is a Python function; tuple.__new__ builds the same object faster.
_new = tuple.__new__


class _Level(deque):
    """FIFO of order ids at one price; ``qty`` = open quantity, ``dead`` = tombstones."""

    __slots__ = ("dead", "qty")


class OrderBook:
    """The matching engine of one market. Not thread-safe: serialise calls per market."""

    __slots__ = (
        "_ask_keys",
        "_bid_keys",
        "_last_id",
        "_levels",
        "_lot",
        "_maker_bps",
        "_min_pq",
        "_orders",
        "_partners",
        "_pending",
        "_scale",
        "_taker_bps",
        "_tick",
        "last_price",
        "rules",
    )

    def __init__(self, rules: MarketRules) -> None:
        self.rules = rules
        self._tick = rules.tick_size
        self._lot = rules.lot_size
        self._scale = rules.base_scale
        # notional >= min_notional  <=>  price * qty >= min_notional * base_scale
        self._min_pq = rules.min_notional * rules.base_scale
        self._maker_bps = rules.maker_fee_bps
        self._taker_bps = rules.taker_fee_bps
        self._levels: dict[int, _Level] = {}
        self._bid_keys: list[int] = []  # +price ascending, best bid last
        self._ask_keys: list[int] = []  # -price ascending, best ask last
        self._orders: tuple[dict[int, _OrderState], ...] = tuple({} for _ in range(_SHARDS))
        self._last_id = -1
        self._pending = Triggers()
        # OCO: each linked order's partner, both ways, while both are live.
        self._partners: dict[int, int] = {}
        self.last_price: int | None = None  # the price of the market's last trade

    # --- commands -----------------------------------------------------------------

    def submit_limit(
        self,
        order_id: int,
        owner: int,
        side: Side,
        price: int,
        quantity: int,
        tif: TimeInForce = GTC,
        post_only: bool = False,
        stp: STP = EXPIRE_TAKER,
    ) -> SubmitResult:
        """Validate, match and (GTC) rest a limit order.

        Bad values are answered with a ``Rejected`` event (status REJECTED); only
        non-int numbers raise (``TypeError``: a caller bug, not user input)."""
        if (
            type(price) is not int
            or type(quantity) is not int
            or type(order_id) is not int
            or type(owner) is not int
        ):
            raise TypeError("order_id, owner, price and quantity must be int")
        if order_id <= self._last_id:
            return self._reject_id(order_id)
        self._last_id = order_id
        result = self._limit(order_id, owner, side, price, quantity, tif, post_only, stp)
        if result.filled or self._partners:
            self._cascade(result.events)
        return result

    def _limit(
        self,
        order_id: int,
        owner: int,
        side: Side,
        price: int,
        quantity: int,
        tif: TimeInForce,
        post_only: bool,
        stp: STP,
    ) -> SubmitResult:
        # One combined test for the common valid case; diagnose only on failure.
        if (
            price <= 0
            or quantity <= 0
            or price % self._tick
            or quantity % self._lot
            or price * quantity < self._min_pq
            or tif not in _TIFS
            or stp not in _STPS
            or (side != BUY and side != SELL)
            or (post_only and tif != GTC)
        ):
            return self._diagnose_limit(order_id, side, price, quantity, tif, post_only, stp)

        key = price if side == BUY else -price
        opp_keys = self._ask_keys if key > 0 else self._bid_keys
        if opp_keys and opp_keys[-1] >= -key:  # crosses the best opposite level
            if post_only:
                return _reject(
                    order_id, "POST_ONLY_WOULD_TAKE", "Post-only order would trade immediately"
                )
            events: list[Event] = [_new(Accepted, (order_id,))]
            if tif == FOK and not self._fillable(key > 0, -key, quantity, owner, stp):
                events.append(_new(Expired, (order_id, quantity, "FOK")))
                return _new(SubmitResult, (order_id, _EXPIRED, 0, 0, 0, quantity, False, events))
            left, quote, fee, stopped = self._take(
                order_id, owner, key > 0, -key, quantity, stp, events
            )
            filled = quantity - left
            if stopped:
                events.append(_new(Expired, (order_id, left, "STP")))
                return _new(
                    SubmitResult, (order_id, _EXPIRED, filled, quote, fee, left, False, events)
                )
            if not left:
                return _new(SubmitResult, (order_id, _FILLED, filled, quote, fee, 0, False, events))
        else:
            events = [_new(Accepted, (order_id,))]
            left = quantity
            filled = quote = fee = 0

        if tif != GTC:
            events.append(_new(Expired, (order_id, left, "IOC" if tif == IOC else "FOK")))
            return _new(SubmitResult, (order_id, _EXPIRED, filled, quote, fee, left, False, events))

        # Rest the remainder (inlined: this is the most frequent path).
        level = self._levels.get(key)
        if level is None:
            level = self._new_level(key)
        if not level or level[-1] < order_id:
            level.append(order_id)
        else:  # a triggered stop-limit: its place in the queue is its id's, as on a reload
            insort(level, order_id)
        level.qty += left
        self._orders[order_id & _MASK][order_id] = (left, owner, key, quantity)
        return _new(
            SubmitResult,
            (order_id, _PARTIAL if filled else _NEW, filled, quote, fee, left, True, events),
        )

    def submit_market(
        self,
        order_id: int,
        owner: int,
        side: Side,
        quantity: int | None = None,
        quote_amount: int | None = None,
        stp: STP = EXPIRE_TAKER,
    ) -> SubmitResult:
        """A market order never rests. Size it by base ``quantity`` (BUY or SELL) or,
        for a BUY only, by ``quote_amount``: spend up to that budget, in whole lots."""
        if type(order_id) is not int or type(owner) is not int:
            raise TypeError("order_id and owner must be int")
        if not (quantity is None or type(quantity) is int) or not (
            quote_amount is None or type(quote_amount) is int
        ):
            raise TypeError("quantity and quote_amount must be int or None")
        if order_id <= self._last_id:
            return self._reject_id(order_id)
        self._last_id = order_id
        result = self._market(order_id, owner, side, quantity, quote_amount, stp)
        if result.filled or self._partners:
            self._cascade(result.events)
        return result

    def _market(
        self,
        order_id: int,
        owner: int,
        side: Side,
        quantity: int | None,
        quote_amount: int | None,
        stp: STP,
    ) -> SubmitResult:
        bad = self._diagnose_market(order_id, side, quantity, quote_amount, stp)
        if bad is not None:
            return bad
        events: list[Event] = [_new(Accepted, (order_id,))]
        if quantity is None:
            assert quote_amount is not None  # guaranteed by _diagnose_market
            return self._market_buy_quote(order_id, owner, quote_amount, stp, events)
        left, quote, fee, stopped = self._take(
            order_id, owner, side == BUY, _NO_LIMIT, quantity, stp, events
        )
        filled = quantity - left
        if not left:
            return _new(SubmitResult, (order_id, _FILLED, filled, quote, fee, 0, False, events))
        events.append(_new(Expired, (order_id, left, "STP" if stopped else "MARKET_NO_LIQUIDITY")))
        return _new(SubmitResult, (order_id, _EXPIRED, filled, quote, fee, left, False, events))

    def submit_conditional(self, order: PendingOrder) -> SubmitResult:
        """Accept a conditional order: it waits, without touching the book, until the last
        trade price meets its trigger (see ``PendingOrder``). Refused with
        ``WOULD_TRIGGER`` if its stop condition is already met by the last price."""
        order_id, owner, side, above, stop, delta, price, quantity, quote_amount, tif, stp, _ = (
            order)
        for value in (order_id, owner):
            if type(value) is not int:
                raise TypeError("order_id and owner must be int")
        for value in (stop, delta, price, quantity, quote_amount):
            if not (value is None or type(value) is int):
                raise TypeError("stop_price, trailing_delta, price and sizes must be int or None")
        if order_id <= self._last_id:
            return self._reject_id(order_id)
        self._last_id = order_id
        if side != BUY and side != SELL:
            return _reject(order_id, "INVALID_SIDE", f"Side must be BUY or SELL, got {side!r}")
        if stop is None and delta is None:
            return _reject(order_id, "STOP_MISSING", "Give a stop price or a trailing delta")
        if stop is not None and (stop <= 0 or stop % self._tick):
            return _reject(order_id, "STOP_PRICE", f"Stop price must be a positive multiple of "
                           f"{self._tick}")
        if delta is not None and not 0 < delta < _BPS:
            return _reject(order_id, "TRAILING_DELTA", "Trailing delta must be 1..9999 bps")
        if price is not None:
            if quantity is None or quote_amount is not None:
                return _reject(order_id, "LIMIT_SIZE", "A limit order is sized by quantity")
            if (price <= 0 or quantity <= 0 or price % self._tick or quantity % self._lot
                    or price * quantity < self._min_pq or tif not in _TIFS or stp not in _STPS):
                return self._diagnose_limit(order_id, side, price, quantity, tif, False, stp)
        elif side == BUY and quantity is not None and quote_amount is not None:
            # Sized by quantity, ``quote_amount`` capping what it spends.
            bad = self._diagnose_market(order_id, side, quantity, None, stp)
            if bad is not None:
                return bad
            if quote_amount <= 0:
                return _reject(order_id, "QUOTE_NON_POSITIVE", "Amount must be positive")
        else:
            bad = self._diagnose_market(order_id, side, quantity, quote_amount, stp)
            if bad is not None:
                return bad
        last = self.last_price
        if stop is not None and last is not None and (last >= stop if above else last <= stop):
            return _reject(order_id, "WOULD_TRIGGER", "Order would trigger immediately.")
        if delta is not None and stop is None:
            order = order._replace(extreme=last)  # tracks from the last price (or next trade)
        else:
            order = order._replace(extreme=None)
        self._pending.add(order)
        return _new(SubmitResult, (order_id, _PENDING, 0, 0, 0, quantity or quote_amount or 0,
                                   False, [_new(Accepted, (order_id,))]))

    def link(self, first: int, second: int) -> None:
        """Make two live orders (resting or pending) an OCO pair: when either trades, expires
        or triggers, the other is cancelled (reason ``"OCO"``) in the same command."""
        for order_id in (first, second):
            if order_id not in self and order_id not in self._pending:
                raise ValueError(f"link: order {order_id} is neither resting nor pending")
            if order_id in self._partners:
                raise ValueError(f"link: order {order_id} is linked already")
        if first == second:
            raise ValueError("link: an order cannot be its own partner")
        self._partners[first] = second
        self._partners[second] = first

    def restore_pending(self, order: PendingOrder) -> None:
        """Put a pending order back as it was (its ``extreme`` included), without checks of
        its trigger against the last price."""
        if order.order_id in self or order.order_id in self._pending:
            raise ValueError(f"restore_pending: order {order.order_id} is already in the book")
        self._pending.add(order)
        if order.order_id > self._last_id:
            self._last_id = order.order_id

    def update_pending(self, order: PendingOrder) -> None:
        """Replace a pending order's state (its trailing extreme) with ``order``: another
        process's copy of this book moved it. Its OCO link stays."""
        if self._pending.remove(order.order_id) is None:
            raise ValueError(f"update_pending: order {order.order_id} is not pending")
        self._pending.add(order)

    def get_pending(self, order_id: int) -> PendingOrder | None:
        return self._pending.get(order_id)

    def pending_orders(self) -> list[PendingOrder]:
        """Every pending order by id, with its trailing state."""
        return self._pending.orders()

    def pending_count(self) -> int:
        return len(self._pending)

    def partner_of(self, order_id: int) -> int | None:
        return self._partners.get(order_id)

    def trigger_snapshot(self) -> tuple[int | None, tuple[PendingOrder, ...],
                                        tuple[tuple[int, int], ...]]:
        """Comparable image of the trigger state: last price, pending orders, OCO pairs."""
        pairs = tuple(sorted((a, b) for a, b in self._partners.items() if a < b))
        return self.last_price, tuple(self._pending.orders()), pairs

    def cancel(self, order_id: int, reason: str = "USER") -> Cancelled | Rejected:
        """Remove a resting or pending order (an OCO partner stays: cancel it too).
        Unknown, filled, expired or already cancelled orders are rejected with code
        ``ORDER_NOT_OPEN`` (the book keeps no history)."""
        partner = self._partners.pop(order_id, None)
        if partner is not None:
            del self._partners[partner]
        state = self._orders[order_id & _MASK].pop(order_id, None)
        if state is None:
            pending = self._pending.remove(order_id)
            if pending is not None:
                size = pending.quantity if pending.quantity is not None else pending.quote_amount
                return _new(Cancelled, (order_id, size, reason))
            return _new(Rejected, (order_id, "ORDER_NOT_OPEN", f"Order {order_id} is not open"))
        left, _, key, _ = state
        level = self._levels[key]
        level.qty -= left
        if not level.qty:
            self._drop_level(key)
        elif level[0] == order_id:
            level.popleft()
        else:
            level.dead += 1
            if level.dead > _COMPACT_MIN and level.dead * 2 > len(level):
                self._compact(level)
        return _new(Cancelled, (order_id, left, reason))

    # --- rebuilding ---------------------------------------------------------------

    def restore(self, order: RestingOrder) -> None:
        """Put a resting order back WITHOUT matching, at its id's time priority.

        Tick/lot/notional filters are not re-checked (rules may have changed since
        the order was placed). Raises ``ValueError`` on inconsistent data: duplicate
        id, bad side/amounts, or a price that would cross the book."""
        order_id, owner, side, price, quantity, remaining = order
        for v in (order_id, owner, price, quantity, remaining):
            if type(v) is not int:
                raise TypeError(f"restore: integer fields expected in {order!r}")
        if order_id in self:
            raise ValueError(f"restore: order {order_id} is already in the book")
        if side != BUY and side != SELL:
            raise ValueError(f"restore: bad side in {order!r}")
        if price <= 0 or not 0 < remaining <= quantity:
            raise ValueError(f"restore: bad price or quantities in {order!r}")
        key = price if side == BUY else -price
        opp_keys = self._ask_keys if key > 0 else self._bid_keys
        if opp_keys and opp_keys[-1] >= -key:
            raise ValueError(f"restore: order {order_id} would cross the book")
        level = self._levels.get(key)
        if level is None:
            level = self._new_level(key)
        if not level or level[-1] < order_id:
            level.append(order_id)
        else:
            insort(level, order_id)  # ids in a level are sorted, tombstones included
        level.qty += remaining
        self._orders[order_id & _MASK][order_id] = (remaining, owner, key, quantity)
        if order_id > self._last_id:
            self._last_id = order_id

    def reduce(self, order_id: int, remaining: int) -> None:
        """Lower a resting order's open quantity WITHOUT matching, keeping its place in the
        queue: fills applied by another process's copy of this book. Raises ``ValueError``
        if the order is not resting or ``remaining`` is not in ``(0, current]``."""
        shard = self._orders[order_id & _MASK]
        state = shard.get(order_id)
        if state is None:
            raise ValueError(f"reduce: order {order_id} is not in the book")
        left, owner, key, quantity = state
        if type(remaining) is not int or not 0 < remaining <= left:
            raise ValueError(f"reduce: order {order_id} has {left} open, not {remaining!r}")
        self._levels[key].qty -= left - remaining
        shard[order_id] = (remaining, owner, key, quantity)

    def load(self, orders: Iterable[RestingOrder]) -> None:
        """Bulk ``restore`` (any input order; queue order comes from the ids)."""
        for order in sorted(orders, key=lambda o: o[0]):
            self.restore(order)

    # --- queries ------------------------------------------------------------------

    def best_bid(self) -> int | None:
        return self._bid_keys[-1] if self._bid_keys else None

    def best_ask(self) -> int | None:
        return -self._ask_keys[-1] if self._ask_keys else None

    def depth(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top ``n`` aggregated levels ``(bids, asks)``, each ``[(price, total_qty)]``
        best first."""
        if n <= 0:
            return [], []
        levels = self._levels
        bids = [(k, levels[k].qty) for k in self._bid_keys[: -n - 1 : -1]]
        asks = [(-k, levels[k].qty) for k in self._ask_keys[: -n - 1 : -1]]
        return bids, asks

    def get(self, order_id: int) -> RestingOrder | None:
        """The resting order ``order_id``, or None if it is not open."""
        state = self._orders[order_id & _MASK].get(order_id)
        if state is None:
            return None
        remaining, owner, key, quantity = state
        return RestingOrder(
            order_id, owner, BUY if key > 0 else SELL, abs(key), quantity, remaining
        )

    def orders_of(self, owner: int) -> list[RestingOrder]:
        """Resting orders of ``owner`` by id (O(resting orders); not for hot paths)."""
        out = [
            RestingOrder(i, o, BUY if k > 0 else SELL, abs(k), q, r)
            for shard in self._orders
            for i, (r, o, k, q) in shard.items()
            if o == owner
        ]
        out.sort()
        return out

    def __len__(self) -> int:
        return sum(map(len, self._orders))

    def __contains__(self, order_id: object) -> bool:
        return type(order_id) is int and order_id in self._orders[order_id & _MASK]

    def market_buy_cost(self, quantity: int, owner: int | None = None) -> tuple[int, int]:
        """``(fillable_qty, quote_cost)`` of a market BUY of ``quantity`` now, without
        mutating. Pass ``owner`` to skip that user's own asks (self-trade prevention
        never fills them); the cost is then an upper bound of what ``submit_market``
        will spend in every STP mode. Call it under the same lock as the submit."""
        left = quantity
        cost = 0
        for key in reversed(self._ask_keys):
            if left <= 0:
                break
            take = min(self._offered(key, owner), left)
            # Per-level floor >= sum of per-fill floors, so this never under-holds.
            cost += -key * take // self._scale
            left -= take
        return quantity - left, cost

    def market_sell_quantity(self, quote_amount: int, owner: int | None = None) -> int:
        """The base quantity, in whole lots, that a market SELL must offer now to receive as
        close to ``quote_amount`` quote as it can without more (Binance's ``quoteOrderQty``
        sell), without mutating. Level by level from the best bid; it stops at the first
        level it does not empty, since matching fills that level before any worse one. Pass
        ``owner`` to skip that user's own bids (self-trade prevention never fills them).
        Call it under the same lock as the submit."""
        left = quote_amount
        quantity = 0
        for key in reversed(self._bid_keys):
            offered = self._offered(key, owner)
            # Per-level floor >= sum of per-fill floors: what it receives never exceeds this.
            take = min(offered, left * self._scale // key // self._lot * self._lot)
            quantity += take
            left -= key * take // self._scale
            if take < offered:
                break
        return quantity

    def snapshot(self) -> Snapshot:
        """Comparable image ``(bids, asks)``: levels best first, each
        ``(price, ((order_id, owner, quantity, remaining), ...))`` in queue order."""

        def side(keys: list[int], sign: int) -> SideImage:
            return tuple(
                (sign * k, tuple((i, o, q, r) for i, (r, o, _, q) in self._live(k)))
                for k in reversed(keys)
            )

        return side(self._bid_keys, 1), side(self._ask_keys, -1)

    # --- internals ----------------------------------------------------------------

    def _cascade(self, events: list[Event]) -> None:
        """What the command's trades set off, appended to ``events``: each trade ends its
        OCO legs' partners, moves the last price and sets off the pending orders it meets
        (``Triggers.move``); those run, in that order, one by one (each first cancels its
        own partner), and their trades do the same, until nothing more is set off."""
        pending = self._pending
        partners = self._partners
        if not pending and not partners:  # nothing waits: only the last price moves
            for event in reversed(events):
                if type(event) is Trade:
                    self.last_price = event[5]
                    return
            return
        queue: deque[tuple[PendingOrder, int]] = deque()
        ended: set[int] = set()  # partners cancelled in this cascade
        start = 0
        last = self.last_price
        while True:
            for index in range(start, len(events)):
                event = events[index]
                kind = type(event)
                if kind is Trade:
                    if partners:
                        self._end_partner(event[0], events, ended, queue)
                        self._end_partner(event[1], events, ended, queue)
                    price = event[5]
                    if pending:
                        hits, trails = pending.move(price, last is None or price >= last)
                        if trails:
                            events.extend(_new(Trailing, t) for t in trails)
                        if hits:
                            queue.extend((hit, price) for hit in hits)
                    last = price
                elif kind is Expired and partners:
                    self._end_partner(event[0], events, ended, queue)
            self.last_price = last
            if not queue:
                return
            order, price = queue.popleft()
            if order.order_id in ended:
                continue
            self._end_partner(order.order_id, events, ended, queue)
            start = len(events)
            self._run_triggered(order, price, events)

    def _end_partner(self, order_id: int, events: list[Event], ended: set[int],
                     queue: deque[tuple[PendingOrder, int]]) -> None:
        partner = self._partners.pop(order_id, None)
        if partner is None:
            return
        del self._partners[partner]
        ended.add(partner)
        state = self._orders[partner & _MASK].get(partner)
        if state is not None:
            events.append(self.cancel(partner, "OCO"))
            return
        order = self._pending.remove(partner)
        if order is None:  # set off in this cascade already, waiting in its queue
            order = next(hit for hit, _ in queue if hit.order_id == partner)
        size = order.quantity if order.quantity is not None else order.quote_amount or 0
        events.append(_new(Cancelled, (partner, size, "OCO")))

    def _run_triggered(self, order: PendingOrder, price: int, events: list[Event]) -> None:
        order_id, owner, side = order.order_id, order.owner, order.side
        if order.price is not None:
            result = self._limit(order_id, owner, side, order.price, order.quantity or 0,
                                 order.tif, False, order.stp)
        elif order.quantity is not None and order.quote_amount is not None:  # a capped buy
            result = self._check_quantity(order_id, order.quantity) or self._market_buy_quote(
                order_id, owner, order.quote_amount, order.stp, [_new(Accepted, (order_id,))],
                order.quantity)
        else:
            result = self._market(order_id, owner, side, order.quantity, order.quote_amount,
                                  order.stp)
        if result.status is _REJECTED:  # the market's rules changed while it waited
            size = order.quantity if order.quantity is not None else order.quote_amount or 0
            events.append(_new(Triggered, (order_id, price, _EXPIRED, 0, 0, 0, size, False,
                                           "TRIGGER_REJECTED")))
            return
        reason = ""
        for event in result.events[1:]:  # its Accepted was at placement
            if type(event) is Expired and event[0] == order_id:
                reason = event[2]
            else:
                events.append(event)
        events.append(_new(Triggered, (order_id, price, result.status, result.filled,
                                       result.quote, result.fee, result.remaining,
                                       result.resting, reason)))

    def _take(
        self,
        taker_id: int,
        owner: int,
        is_buy: bool,
        threshold: int,
        quantity: int,
        stp: STP,
        events: list[Event],
    ) -> tuple[int, int, int, bool]:
        """Match ``quantity`` against the opposite side on levels whose key is
        ``>= threshold``. Returns ``(left, quote, taker_fee, stopped_by_stp)``."""
        keys = self._ask_keys if is_buy else self._bid_keys
        levels = self._levels
        orders = self._orders
        scale = self._scale
        maker_bps = self._maker_bps
        taker_bps = self._taker_bps
        side = BUY if is_buy else SELL
        left = quantity
        quote = 0
        fee = 0
        stopped = False
        while left and keys:
            key = keys[-1]
            if key < threshold:
                break
            level = levels[key]
            price = -key if is_buy else key
            while True:
                maker_id = level[0]
                shard = orders[maker_id & _MASK]
                state = shard.get(maker_id)
                if state is None:  # tombstone of a cancelled order
                    level.popleft()
                    level.dead -= 1
                    continue
                maker_left, maker_owner, _, maker_qty = state
                if maker_owner == owner:
                    if stp == EXPIRE_TAKER:
                        stopped = True
                        break
                    level.popleft()
                    del shard[maker_id]
                    level.qty -= maker_left
                    events.append(_new(Expired, (maker_id, maker_left, "STP")))
                    stopped = stp == EXPIRE_BOTH
                else:
                    if maker_left <= left:
                        fill = maker_left
                        maker_after = 0
                        level.popleft()
                        del shard[maker_id]
                    else:
                        fill = left
                        maker_after = maker_left - left
                        shard[maker_id] = (maker_after, maker_owner, key, maker_qty)
                    left -= fill
                    level.qty -= fill
                    notional = price * fill // scale
                    # Fees on what each side receives, rounded up: buyer in base,
                    # seller in quote.
                    if is_buy:
                        taker_fee = -(-fill * taker_bps // _BPS)
                        maker_fee = -(-notional * maker_bps // _BPS)
                    else:
                        taker_fee = -(-notional * taker_bps // _BPS)
                        maker_fee = -(-fill * maker_bps // _BPS)
                    quote += notional
                    fee += taker_fee
                    events.append(
                        _new(
                            Trade,
                            (maker_id, taker_id, maker_owner, owner, side, price, fill,
                             notional, maker_fee, taker_fee, maker_after),
                        )
                    )  # fmt: skip
                if not level.qty:
                    del levels[key]
                    keys.pop()
                    break
                if not left or stopped:
                    break
            if stopped:
                break
        return left, quote, fee, stopped

    def _market_buy_quote(
        self, order_id: int, owner: int, budget: int, stp: STP, events: list[Event],
        quantity: int | None = None,
    ) -> SubmitResult:
        """Spend up to ``budget`` quote, level by level, in whole lots; with ``quantity``,
        buy that much at most (a stop-market buy by quantity, its spend capped by its hold):
        then a budget that runs out first expires the rest."""
        keys = self._ask_keys
        spent = filled = fee = 0
        reason: str | None
        while True:
            if filled == quantity:
                reason = None
                break
            if not keys:
                reason = "MARKET_NO_LIQUIDITY"
                break
            key = keys[-1]
            cap = (budget - spent) * self._scale // -key // self._lot * self._lot
            if quantity is not None:
                cap = min(cap, quantity - filled)
            if not cap:
                # The rest cannot buy one lot: done (the dust stays with the buyer).
                reason = None if filled and quantity is None else "INSUFFICIENT_BUDGET"
                break
            # threshold=key restricts this pass to the best level (a single price).
            left, quote, f, stopped = self._take(order_id, owner, True, key, cap, stp, events)
            filled += cap - left
            spent += quote
            fee += f
            if stopped:
                reason = "STP"
                break
        left = budget - spent if quantity is None else quantity - filled
        status = _FILLED
        if reason is not None:
            status = _EXPIRED
            events.append(_new(Expired, (order_id, left, reason)))
        return _new(SubmitResult, (order_id, status, filled, spent, fee, left, False, events))

    def _fillable(self, is_buy: bool, threshold: int, quantity: int, owner: int, stp: STP) -> bool:
        """Dry run of ``_take`` for FOK: would ``quantity`` fill completely?"""
        need = quantity
        for key in reversed(self._ask_keys if is_buy else self._bid_keys):
            if key < threshold:
                return False
            for _, (left, maker_owner, _, _) in self._live(key):
                if maker_owner == owner:
                    if stp == EXPIRE_MAKER:
                        continue  # would be expired, matching goes on
                    return False  # the taker would expire here
                need -= left
                if need <= 0:
                    return True
        return False

    def _offered(self, key: int, owner: int | None) -> int:
        """What a level holds, without ``owner``'s own orders (if given)."""
        if owner is None:
            return self._levels[key].qty
        return sum(state[0] for _, state in self._live(key) if state[1] != owner)

    def _live(self, key: int) -> list[tuple[int, _OrderState]]:
        """``(order_id, state)`` of the live orders of a level, in queue order."""
        orders = self._orders
        out = []
        for order_id in self._levels[key]:
            state = orders[order_id & _MASK].get(order_id)
            if state is not None:
                out.append((order_id, state))
        return out

    def _new_level(self, key: int) -> _Level:
        level = self._levels[key] = _Level()
        level.qty = 0
        level.dead = 0
        keys = self._bid_keys if key > 0 else self._ask_keys
        if not keys or key > keys[-1]:
            keys.append(key)  # a new best price: the common case near the spread
        else:
            insort(keys, key)
        return level

    def _drop_level(self, key: int) -> None:
        del self._levels[key]
        keys = self._bid_keys if key > 0 else self._ask_keys
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]

    def _compact(self, level: _Level) -> None:
        """Drop a level's tombstones (bounded memory for long-lived deep levels)."""
        orders = self._orders
        live = [i for i in level if i in orders[i & _MASK]]
        level.clear()
        level.extend(live)
        level.dead = 0

    def _reject_id(self, order_id: int) -> SubmitResult:
        return _reject(
            order_id, "ORDER_ID_NOT_INCREASING", f"Order id must be greater than {self._last_id}"
        )

    def _diagnose_limit(
        self,
        order_id: int,
        side: object,
        price: int,
        quantity: int,
        tif: object,
        post_only: bool,
        stp: object,
    ) -> SubmitResult:
        if side != BUY and side != SELL:
            return _reject(order_id, "INVALID_SIDE", f"Side must be BUY or SELL, got {side!r}")
        if tif not in _TIFS:
            return _reject(order_id, "INVALID_TIF", f"Unknown time in force {tif!r}")
        if stp not in _STPS:
            return _reject(order_id, "INVALID_STP", f"Unknown self-trade prevention {stp!r}")
        if post_only and tif != GTC:
            return _reject(order_id, "POST_ONLY_TIF", "Post-only orders must be GTC")
        if price <= 0:
            return _reject(order_id, "PRICE_NON_POSITIVE", "Price must be positive")
        if price % self._tick:
            return _reject(order_id, "PRICE_TICK", f"Price must be a multiple of {self._tick}")
        bad = self._check_quantity(order_id, quantity)
        if bad is not None:
            return bad
        return _reject(
            order_id, "MIN_NOTIONAL", f"Order value must be at least {self.rules.min_notional}"
        )

    def _diagnose_market(
        self,
        order_id: int,
        side: object,
        quantity: int | None,
        quote_amount: int | None,
        stp: object,
    ) -> SubmitResult | None:
        if side != BUY and side != SELL:
            return _reject(order_id, "INVALID_SIDE", f"Side must be BUY or SELL, got {side!r}")
        if stp not in _STPS:
            return _reject(order_id, "INVALID_STP", f"Unknown self-trade prevention {stp!r}")
        if (quantity is None) == (quote_amount is None):
            return _reject(order_id, "MARKET_SIZE", "Give exactly one of quantity and quote_amount")
        if quantity is not None:
            return self._check_quantity(order_id, quantity)
        assert quote_amount is not None
        if side != BUY:
            return _reject(order_id, "MARKET_SIZE", "quote_amount is only for BUY orders")
        if quote_amount <= 0:
            return _reject(order_id, "QUOTE_NON_POSITIVE", "Amount must be positive")
        if quote_amount < self.rules.min_notional:
            return _reject(
                order_id, "MIN_NOTIONAL", f"Amount must be at least {self.rules.min_notional}"
            )
        return None

    def _check_quantity(self, order_id: int, quantity: int) -> SubmitResult | None:
        if quantity <= 0:
            return _reject(order_id, "QUANTITY_NON_POSITIVE", "Quantity must be positive")
        if quantity % self._lot:
            return _reject(order_id, "QUANTITY_LOT", f"Quantity must be a multiple of {self._lot}")
        return None


def _reject(order_id: int, code: str, message: str) -> SubmitResult:
    rejected = _new(Rejected, (order_id, code, message))
    return _new(SubmitResult, (order_id, _REJECTED, 0, 0, 0, 0, False, [rejected]))
