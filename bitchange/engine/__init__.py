"""BitChange matching engine: pure, deterministic, integer-only, one book per market.

No I/O, no imports from the rest of the project. See ``book`` for the data layout,
``types`` for units, events and results, ``gc_policy`` for the GC policy.

Usage::

    from bitchange.engine import OrderBook, MarketRules, Side

    book = OrderBook(MarketRules(tick_size=10_000, lot_size=1_000, min_notional=5_000_000,
                                 base_scale=10**8, maker_fee_bps=10, taker_fee_bps=20))
    book.load(rows_from_db)            # RestingOrder tuples, no matching
    result = book.submit_limit(42, owner=7, side=Side.BUY, price=65_000_120_000,
                               quantity=50_000_000)
    for event in result.events: ...   # Accepted / Trade / Expired / Rejected
"""

from bitchange.engine import gc_policy
from bitchange.engine.book import OrderBook, Snapshot
from bitchange.engine.triggers import trail_level
from bitchange.engine.types import (
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
    fee_for,
)

__all__ = [
    "STP",
    "Accepted",
    "Cancelled",
    "Event",
    "Expired",
    "MarketRules",
    "OrderBook",
    "PendingOrder",
    "Rejected",
    "RestingOrder",
    "Side",
    "Snapshot",
    "Status",
    "SubmitResult",
    "TimeInForce",
    "Trade",
    "Trailing",
    "Triggered",
    "fee_for",
    "gc_policy",
    "trail_level",
]
