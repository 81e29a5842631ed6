"""Value types of the matching engine: enums, market rules, commands' results, events.

Everything here is immutable. Events and results are ``NamedTuple`` subclasses:
cheap to build (the engine builds them with ``tuple.__new__`` to skip the Python
``__new__`` frame), compared by value (replay tests), and never part of a
reference cycle (see ``gc_policy``).

Units are integers only:

* ``price``     quote-asset minor units per ONE WHOLE base unit;
* ``quantity``  base-asset minor units;
* ``notional``  quote-asset minor units = ``price * quantity // base_scale``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class TimeInForce(StrEnum):
    GTC = "GTC"  # rest the remainder
    IOC = "IOC"  # fill what is possible now, expire the rest
    FOK = "FOK"  # fill completely now or expire without touching the book


class STP(StrEnum):
    """Self-trade prevention: what happens when a taker meets its owner's resting order.

    The TAKER's mode decides (Binance semantics). Default: ``EXPIRE_TAKER``.
    """

    EXPIRE_TAKER = "EXPIRE_TAKER"  # taker's remainder expires, the maker stays
    EXPIRE_MAKER = "EXPIRE_MAKER"  # the maker expires, matching continues
    EXPIRE_BOTH = "EXPIRE_BOTH"  # both expire


class Status(StrEnum):
    """Final state of a submitted order, as seen right after ``submit_*`` returns."""

    NEW = "NEW"  # resting, nothing filled
    PARTIALLY_FILLED = "PARTIALLY_FILLED"  # resting, partly filled
    FILLED = "FILLED"  # done, fully filled (a market-by-quote order may leave dust)
    EXPIRED = "EXPIRED"  # done, remainder expired (IOC/FOK/STP/market without liquidity)
    REJECTED = "REJECTED"  # failed a filter; the book was not touched
    PENDING = "PENDING"  # a conditional order waiting for its trigger


BPS_DENOMINATOR = 10_000


@dataclass(frozen=True, slots=True)
class MarketRules:
    """Static filters and fees of one market.

    ``tick_size * lot_size % base_scale == 0`` guarantees that the notional of any
    valid price and quantity is an exact integer, so no fill ever rounds money.
    """

    tick_size: int
    lot_size: int
    min_notional: int
    base_scale: int  # 10 ** base asset precision
    maker_fee_bps: int = 0
    taker_fee_bps: int = 0

    def __post_init__(self) -> None:
        for name in (
            "tick_size",
            "lot_size",
            "min_notional",
            "base_scale",
            "maker_fee_bps",
            "taker_fee_bps",
        ):
            value = getattr(self, name)
            if type(value) is not int:
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if self.tick_size <= 0 or self.lot_size <= 0 or self.base_scale <= 0:
            raise ValueError("tick_size, lot_size and base_scale must be positive")
        if self.min_notional < 0:
            raise ValueError("min_notional must be >= 0")
        # No rebates: a negative fee would pay out money the exchange never received.
        for bps in (self.maker_fee_bps, self.taker_fee_bps):
            if not 0 <= bps <= BPS_DENOMINATOR:
                raise ValueError("fee bps must be within 0..10000")
        if self.tick_size * self.lot_size % self.base_scale:
            raise ValueError(
                "tick_size * lot_size must be a multiple of base_scale "
                "so that every notional is exact"
            )


def fee_for(amount: int, bps: int) -> int:
    """Fee on ``amount`` received, rounded up (favours the exchange), never above it."""
    return -(-amount * bps // BPS_DENOMINATOR)


# --- events -----------------------------------------------------------------------


class Accepted(NamedTuple):
    """The order passed every filter (first event of every non-rejected submit)."""

    order_id: int


class Trade(NamedTuple):
    """One fill, at the maker's price.

    Fees are on what each side receives: the BUYER's fee is in BASE (on
    ``quantity``), the SELLER's fee is in QUOTE (on ``notional``). So if
    ``taker_side`` is BUY, ``taker_fee`` is base and ``maker_fee`` is quote;
    if SELL, the other way round. ``maker_remaining`` is the maker's open quantity
    after this fill (0 = the maker order is fully filled and gone from the book).
    """

    maker_order_id: int
    taker_order_id: int
    maker_owner: int
    taker_owner: int
    taker_side: Side
    price: int
    quantity: int
    notional: int
    maker_fee: int
    taker_fee: int
    maker_remaining: int


class Cancelled(NamedTuple):
    """A resting order was removed by ``cancel`` (reason ``"USER"`` or the caller's)."""

    order_id: int
    remaining: int
    reason: str


class Expired(NamedTuple):
    """An order's remainder ended without a fill.

    ``reason``: ``"IOC"``, ``"FOK"``, ``"STP"`` (taker or maker), ``"MARKET_NO_LIQUIDITY"``,
    ``"INSUFFICIENT_BUDGET"`` (market-by-quote budget below one lot at the best ask).
    ``remaining`` is in the order's own sizing unit: base quantity, except for a
    market buy by ``quote_amount`` where it is the unspent quote budget.
    """

    order_id: int
    remaining: int
    reason: str


class Rejected(NamedTuple):
    """A command failed validation; nothing changed. ``message`` states raw integers."""

    order_id: int
    code: str
    message: str


class Triggered(NamedTuple):
    """A conditional order's trigger was met at trade price ``trigger_price`` and it ran as a
    limit or market order; emitted AFTER the events of that run (its trades, makers' STP
    expiries). The other fields summarise the run as ``SubmitResult`` does for a taker; its
    own expiry is not a separate ``Expired`` event but ``reason`` here (``Expired.reason``,
    or ``"TRIGGER_REJECTED"`` if the market's rules changed while it waited; '' if it did not
    expire). So every ``Expired`` after a command's own run is a maker's."""

    order_id: int
    trigger_price: int
    status: Status
    filled: int
    quote: int
    fee: int
    remaining: int
    resting: bool
    reason: str


class Trailing(NamedTuple):
    """A trailing order started tracking, or its extreme moved: ``extreme`` is the highest
    (SELL) or lowest (BUY) trade price since it started tracking."""

    order_id: int
    extreme: int


Event = Accepted | Trade | Cancelled | Expired | Rejected | Triggered | Trailing


# --- results and resting orders ---------------------------------------------------


class SubmitResult(NamedTuple):
    """Summary of one ``submit_limit`` / ``submit_market`` call, for the taker.

    ``filled``     base quantity bought/sold by this order now;
    ``quote``      quote spent (BUY) or received before fees (SELL) = sum of notionals;
    ``fee``        total taker fee (base if BUY, quote if SELL);
    ``remaining``  open quantity if resting; otherwise what did not fill (base,
                   or unspent quote budget for a market buy by ``quote_amount``);
    ``resting``    True if the remainder now rests in the book.
    """

    order_id: int
    status: Status
    filled: int
    quote: int
    fee: int
    remaining: int
    resting: bool
    events: list[Event]


class PendingOrder(NamedTuple):
    """A conditional order waiting for its trigger (``submit_conditional``, ``restore_pending``).

    ``above``: the stop condition is "last price >= stop_price" (STOP_LOSS BUY, TAKE_PROFIT
    SELL), else "last price <= stop_price" (STOP_LOSS SELL, TAKE_PROFIT BUY). Without a
    ``trailing_delta`` (bps) the order triggers when the condition is met; with one, it starts
    tracking then (at once if there is no ``stop_price``) and triggers after the price moves
    against it by the delta from ``extreme`` (None until tracking starts). Once triggered it
    runs as a limit order at ``price`` (with ``tif``) or, if ``price`` is None, as a market
    order of ``quantity`` or (BUY) ``quote_amount``; a BUY given both buys ``quantity``
    spending at most ``quote_amount`` (what it holds), and expires what that does not buy.
    """

    order_id: int
    owner: int
    side: Side
    above: bool
    stop_price: int | None
    trailing_delta: int | None
    price: int | None
    quantity: int | None
    quote_amount: int | None = None
    tif: TimeInForce = TimeInForce.GTC
    stp: STP = STP.EXPIRE_TAKER
    extreme: int | None = None


class RestingOrder(NamedTuple):
    """A resting order as returned by ``get`` and accepted by ``restore``/``load``."""

    order_id: int
    owner: int
    side: Side
    price: int
    quantity: int  # original quantity
    remaining: int  # open quantity, 0 < remaining <= quantity
