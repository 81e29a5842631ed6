"""Conversions between what people type or read and integer minor units.

Decimal is used only here, at the edges. Parsing is exact: an amount with more decimals than the
asset has is refused, never rounded. Display truncates toward zero, so a shown figure is never
more than what is held.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

# Amounts and order totals the exchange accepts stay below this: they are 64-bit integers in
# the database, with room left for sums.
MAX_MINOR = 2**62


class AmountError(ValueError):
    """User input that is not a valid amount; the message is shown to the user."""


def parse_amount(text: str, precision: int, *, what: str = "Amount") -> int:
    """'1.25' with precision 8 -> 125_000_000. Refuses negatives, zero, junk and excess decimals."""
    cleaned = (text or "").strip().replace(",", "").replace("_", "")
    if not cleaned:
        raise AmountError(f"{what} is required")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise AmountError(f"{what} must be a number") from None
    if not value.is_finite():
        raise AmountError(f"{what} must be a number")
    if value <= 0:
        raise AmountError(f"{what} must be greater than zero")
    scaled = value.scaleb(precision)
    if scaled != scaled.to_integral_value():
        raise AmountError(f"{what} can have at most {precision} decimal places")
    minor = int(scaled)
    if minor >= MAX_MINOR:
        raise AmountError(f"{what} is too large")
    return minor


def to_decimal(minor: int, precision: int) -> Decimal:
    return Decimal(minor).scaleb(-precision)


def format_amount(minor: int, precision: int, decimals: int | None = None) -> str:
    """125_000_000 with precision 8 -> '1.25000000' (or fewer `decimals`, truncated)."""
    shown = precision if decimals is None else min(decimals, precision)
    value = to_decimal(minor, precision).quantize(Decimal(1).scaleb(-shown), rounding=ROUND_DOWN)
    return f"{value:,.{shown}f}"


def plain_amount(minor: int, precision: int) -> str:
    """125_000_000 with precision 8 -> '1.25000000': every decimal, no separators (the API)."""
    return f"{to_decimal(minor, precision):.{precision}f}"


def format_step(minor: int, precision: int) -> str:
    """A filter step (tick, lot) as a plain decimal without trailing zeros: 10000, 6 -> '0.01'."""
    text = f"{to_decimal(minor, precision):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
