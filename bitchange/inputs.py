"""Numbers as people type them, read exactly: the digits are the ASCII digits 0-9, nothing else.

Python's `int()` and `Decimal()` also take full-width and Arabic-Indic digits, underscores, signs,
spaces and exponents, and an integer past the database's columns crashes the query. So every
whole number from the browser or the command line (an id, an output index, a count) goes
through `parse_whole` (or `parse_id`), and every amount through `bitchange.money.parse_amount`,
which share `ascii_digits`.
"""

from __future__ import annotations

# Ids, output indexes and counts are INTEGER columns: 32 bits on PostgreSQL.
MAX_WHOLE = 2**31 - 1


class InputError(ValueError):
    """Input that is not what the field takes; the message is shown to the user."""


def ascii_digits(text: str) -> bool:
    """Only 0-9 (`str.isdigit()` also takes Arabic-Indic, full-width and superscript digits)."""
    return text.isascii() and text.isdigit()


def parse_whole(value: object, what: str, *, minimum: int = 0, maximum: int = MAX_WHOLE) -> int:
    """'42' -> 42, within [minimum, maximum]; anything but ASCII digits is refused."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise InputError(f"{what} is required")
    if not ascii_digits(text):
        raise InputError(f"{what} must be a whole number written with the digits 0-9")
    significant = text.lstrip("0") or "0"
    # Compare the length first: int() of thousands of digits is slow, and refused past 4300.
    if len(significant) > len(str(maximum)) or int(significant) > maximum:
        raise InputError(f"{what} must be at most {maximum}")
    number = int(significant)
    if number < minimum:
        raise InputError(f"{what} must be at least {minimum}")
    return number


def parse_id(value: object, missing: str = "Not found.") -> int:
    """A record's id sent by the browser. Anything that can name no record (junk, 0, past the id
    column) raises InputError(`missing`): the same answer as an id that is not there."""
    try:
        return parse_whole(value, "Id", minimum=1)
    except InputError:
        raise InputError(missing) from None
