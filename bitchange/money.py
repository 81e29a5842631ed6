"""Conversions between what people type or read and integer minor units.

Decimal is used only here, at the edges. Parsing is exact: an amount with more decimals than the
asset has is refused, never rounded. An amount of an asset is shown by one rule (`format_asset`):
its display decimals, more only when the amount has them, so a shown amount is exact. Fixed
decimals (prices on a tick, estimates) truncate toward zero, so a shown figure is never more than
what is held.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from bitchange.inputs import InputError, ascii_digits

# Amounts and order totals the exchange accepts stay below this: they are 64-bit integers in
# the database, with room left for sums.
MAX_MINOR = 2**62
USE_A_DOT = "use a dot for decimals, e.g. 1.5"


class AmountError(InputError):
    """User input that is not a valid amount; the message is shown to the user."""


def parse_amount(text: str, precision: int, *, what: str = "Amount") -> int:
    """'1.25' with precision 8 -> 125_000_000. ASCII digits and at most one dot, nothing else:
    a comma (a decimal comma or a thousands separator?), an exponent, a sign or another
    script's digits are refused, never guessed at. Refuses zero and excess decimals."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise AmountError(f"{what} is required")
    if "," in cleaned:
        raise AmountError(f"{what}: {USE_A_DOT}")
    if cleaned.startswith("-"):
        raise AmountError(f"{what} must be greater than zero")
    whole, _, fraction = cleaned.partition(".")
    if not (whole or fraction) or not all(ascii_digits(part) for part in (whole, fraction)
                                          if part):
        raise AmountError(f"{what} must be a number: digits 0-9 and at most one dot, e.g. 1.5")
    fraction = fraction.rstrip("0")
    if len(fraction) > precision:
        raise AmountError(f"{what} can have at most {precision} decimal places")
    whole = whole.lstrip("0")
    if len(whole) > len(str(MAX_MINOR)):  # before int(): thousands of digits are slow
        raise AmountError(f"{what} is too large")
    minor = int(whole or "0") * 10**precision + int(fraction.ljust(precision, "0") or "0")
    if minor == 0:
        raise AmountError(f"{what} must be greater than zero")
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


def format_asset(minor: int, precision: int, display_decimals: int) -> str:
    """The one display rule for an amount of an asset: at least its display decimals, and more
    (up to its precision) only when the amount has them, so nothing is cut off:
    150_000_000_000 USDT (6, 2) -> '150,000.00'; 12_345_678 ETH (8, 6) -> '0.12345678'."""
    exponent = to_decimal(minor, precision).normalize().as_tuple().exponent
    needed = -exponent if isinstance(exponent, int) else precision
    return format_amount(minor, precision, max(display_decimals, min(needed, precision)))


def plain_amount(minor: int, precision: int) -> str:
    """125_000_000 with precision 8 -> '1.25000000': every decimal, no separators (the API)."""
    return f"{to_decimal(minor, precision):.{precision}f}"


def format_step(minor: int, precision: int) -> str:
    """A filter step (tick, lot) as a plain decimal without trailing zeros: 10000, 6 -> '0.01'."""
    text = f"{to_decimal(minor, precision):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
