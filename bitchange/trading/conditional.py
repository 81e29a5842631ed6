"""Conditional orders (STOP_LOSS, TAKE_PROFIT, their _LIMIT forms, trailing stops, OCO legs):
the rules a request must pass, in the trader's units, and how an order row becomes the
engine's `PendingOrder`. Binance semantics (spot `rest-api.md`, `faqs/trailing-stop-faq.md`):

* the stop condition is "last trade price >= stop" for STOP_LOSS BUY and TAKE_PROFIT SELL,
  "last trade price <= stop" for STOP_LOSS SELL and TAKE_PROFIT BUY; an order whose condition
  the last price already meets is refused ("Order would trigger immediately.");
* `trailing_delta` is in bps, within the market's TRAILING_DELTA filter;
* what runs when triggered is a limit order at `price` (the _LIMIT types) or a market order;
  what a stop-market BUY may spend is held from the start, so a trigger can never fail for
  funds: sized by the amount to spend, that amount; sized by quantity (as Binance's STOP_LOSS
  and TAKE_PROFIT are), its `spend_cap`, which it never spends more than.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from bitchange.engine import STP, PendingOrder, Side, TimeInForce
from bitchange.trading.filters import Filters

STOP_TYPES = ("STOP_LOSS", "TAKE_PROFIT")
# The TRAILING_DELTA filter (bps), the same above and below the market.
MIN_TRAILING_DELTA = 10
MAX_TRAILING_DELTA = 2_000

WOULD_TRIGGER = "Order would trigger immediately."
OCO_PRICES = "The relationship of the prices for the orders is not correct."


class ConditionalProblem(ValueError):
    """A refused conditional order: the message for the trader, the reason for programs."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


def is_above(stop_type: str, side: str) -> bool:
    """True if the stop condition is "last >= stop" (STOP_LOSS BUY, TAKE_PROFIT SELL)."""
    return (stop_type == "STOP_LOSS") == (side == "BUY")


def would_trigger(stop_type: str, side: str, stop_price: int | None,
                  last_price: int | None) -> bool:
    if stop_price is None or last_price is None:
        return False
    return last_price >= stop_price if is_above(stop_type, side) else last_price <= stop_price


def check(request: Any, filters: Filters, last_price: int | None) -> None:
    """The conditional parts of `request` (a `service.OrderRequest` with `stop_type` set);
    the limit or market parts are checked by the service as for any order."""
    if request.stop_type not in STOP_TYPES:
        raise ConditionalProblem("The stop type must be STOP_LOSS or TAKE_PROFIT")
    if request.stop_price is None and request.trailing_delta is None:
        raise ConditionalProblem("Enter a stop price or a trailing delta", "STOP_PRICE")
    if request.stop_price is not None:
        if request.stop_price <= 0:
            raise ConditionalProblem("Enter a stop price", "STOP_PRICE")
        problem = filters.price_problem(request.stop_price)
        if problem:
            raise ConditionalProblem(problem.replace("Price", "Stop price"), "PRICE_FILTER")
    if request.trailing_delta is not None and not (
            MIN_TRAILING_DELTA <= request.trailing_delta <= MAX_TRAILING_DELTA):
        raise ConditionalProblem(
            f"The trailing delta must be between {MIN_TRAILING_DELTA} and "
            f"{MAX_TRAILING_DELTA} basis points ({MIN_TRAILING_DELTA / 100:g}% to "
            f"{MAX_TRAILING_DELTA / 100:g}%)", "TRAILING_DELTA")
    if request.post_only:
        raise ConditionalProblem("A stop order cannot be post-only")
    if request.stp != STP.EXPIRE_TAKER.value:
        raise ConditionalProblem("Stop orders use the default self-trade prevention "
                                 "(EXPIRE_TAKER)")
    if would_trigger(request.stop_type, request.side, request.stop_price, last_price):
        raise ConditionalProblem(WOULD_TRIGGER, "WOULD_TRIGGER")


# How far past its trigger level the price may run before a stop-market buy by quantity runs
# out of what it holds (bps): beyond it, what the hold does not buy expires.
STOP_BUY_MARGIN_BPS = 500


def spend_cap(request: Any, filters: Filters, last_price: int | None) -> int | None:
    """What a stop-market BUY sized by quantity holds and may spend at most: its quantity at
    the level it triggers near (its stop price, or for a trailing stop without one the last
    price), raised by its trailing delta and `STOP_BUY_MARGIN_BPS`, rounded up; its total at
    that level must meet the minimum, as any market order's must. None for any other order."""
    if (request.stop_type is None or request.kind != "market" or request.side != "BUY"
            or request.quantity is None):
        return None
    level = request.stop_price if request.stop_price is not None else last_price
    if level is None:
        raise ConditionalProblem("A trailing stop-market buy by quantity needs a last trade "
                                 "price to hold against: size it by the amount to spend")
    scale = 10**filters.base_precision
    problem = filters.total_problem(request.quantity * level // scale)
    if problem:
        raise ConditionalProblem(problem, "NOTIONAL")
    bps = 10_000 + STOP_BUY_MARGIN_BPS + (request.trailing_delta or 0)
    return -(-request.quantity * level * bps // (scale * 10_000))


def sized_by_total(row: Any) -> int:
    """The total an order row was sized by (Binance's origQuoteOrderQty), 0 if by quantity.
    A stop-market buy by quantity keeps its `spend_cap` in the same column."""
    if row.stop_type is not None and row.quantity is not None:
        return 0
    return row.quote_amount or 0


def leg_level(request: Any) -> int | None:
    """The price an OCO leg waits for: its limit price, or its stop (None: trailing only)."""
    if request.stop_type is None:
        return request.price
    return request.stop_price


def check_oco(side: str, above: Any, below: Any, last_price: int | None) -> None:
    """Binance's OCO: SELL: a limit maker or take-profit above, a stop-loss below; BUY: a
    stop-loss above, a limit maker or take-profit below; above > last price > below."""
    profit, loss = (above, below) if side == "SELL" else (below, above)
    if profit.stop_type not in (None, "TAKE_PROFIT") or (
            profit.stop_type is None and not profit.post_only):
        raise ConditionalProblem("The take-profit leg must be a limit maker or a take-profit "
                                 "order", "OCO_TYPES")
    if loss.stop_type != "STOP_LOSS":
        raise ConditionalProblem("The stop leg must be a stop-loss order", "OCO_TYPES")
    high, low = leg_level(above), leg_level(below)
    levels = [level for level in (high, last_price, low) if level is not None]
    if any(a <= b for a, b in pairwise(levels)):
        raise ConditionalProblem(OCO_PRICES, "OCO_PRICES")


def pending_of(row: Any) -> PendingOrder:
    """The engine's view of a pending order row."""
    return PendingOrder(
        row.id, row.user_id, Side(row.side), is_above(row.stop_type, row.side), row.stop_price,
        row.trailing_delta, row.price if row.kind == "limit" else None, row.quantity,
        row.quote_amount, TimeInForce(row.tif), STP.EXPIRE_TAKER, row.trail_extreme)
