"""The one amount parser and the one whole-number parser: ASCII digits (and, for amounts, one
dot) or a refusal with a reason; nothing is guessed, and nothing in range crashes a query."""

from __future__ import annotations

import re
import string
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitchange.inputs import MAX_WHOLE, InputError, parse_id, parse_whole
from bitchange.money import MAX_MINOR, AmountError, format_step, parse_amount

ALLOWED = set(string.digits + ".")
FULL_WIDTH_12 = "\uff11\uff12"  # Decimal() and int() read it as 12
ARABIC_INDIC_12 = "\u0661\u0662"


@pytest.mark.parametrize(("text", "message"), [
    ("1,5", "Amount: use a dot for decimals, e.g. 1.5"),
    ("1,000.5", "Amount: use a dot for decimals, e.g. 1.5"),
    (FULL_WIDTH_12, "must be a number"), (ARABIC_INDIC_12, "must be a number"),
    ("1e999999", "must be a number"), ("1e-999999999", "must be a number"),
    ("1E5", "must be a number"), ("1_000", "must be a number"),
    ("1 000", "must be a number"), ("+1", "must be a number"), ("1.2.3", "must be a number"),
    (".", "must be a number"), ("0x10", "must be a number"), ("\u00b2", "must be a number"),
    ("9" * 5000, "too large"), (str(MAX_MINOR), "too large"), ("0.000", "greater than zero"),
])
def test_amounts_take_ascii_digits_and_one_dot_only(text, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(text, 8)


def test_trailing_zeros_do_not_count_as_decimals_and_the_largest_amount_parses():
    assert parse_amount("1.50000000000000000000", 2) == 150
    assert parse_amount(str(MAX_MINOR - 1), 0) == MAX_MINOR - 1


def _refused_text() -> st.SearchStrategy[str]:
    """Text with at least one character an amount may not have (a comma, an exponent, another
    script's digit, any other character), placed anywhere among valid ones."""
    bad = st.one_of(
        st.sampled_from([",", "e", "E", "-", "+", "_", "1 2", "\uff11", "\u0661", "\u06f4",
                         "\u0967", "\u00b2", "\u00bd"]),
        st.characters().filter(lambda c: c not in ALLOWED and not c.isspace()))
    valid = st.text(alphabet="0123456789.", max_size=6)
    return st.tuples(valid, bad, valid).map("".join)


@given(_refused_text())
def test_any_other_character_is_refused_by_both_parsers(text):
    with pytest.raises(AmountError):
        parse_amount(text, 8)
    with pytest.raises(InputError):
        parse_whole(text, "Count")


@given(st.integers(min_value=1, max_value=MAX_MINOR - 1), st.integers(min_value=0, max_value=8))
def test_every_amount_round_trips_through_its_plain_text(minor, precision):
    assert parse_amount(format_step(minor, precision), precision) == minor


@given(st.text(alphabet="0123456789.,e_-", max_size=24), st.integers(min_value=0, max_value=8))
def test_accepted_amounts_are_plain_decimals_of_exactly_their_value(text, precision):
    """Over digits, dots, commas, exponents, underscores and signs: exactly the plain decimals
    whose value fits the precision are accepted, at exactly that value (decimal arithmetic is
    the oracle); everything else is refused."""
    plain = re.fullmatch(r"[0-9]*\.?[0-9]*", text) is not None and text.strip(".") != ""
    value = Decimal(text).scaleb(precision) if plain else None
    if value is not None and value == value.to_integral_value() and 0 < value < MAX_MINOR:
        assert parse_amount(text, precision) == int(value)
    else:
        with pytest.raises(AmountError):
            parse_amount(text, precision)


@given(st.integers(min_value=0, max_value=MAX_WHOLE), st.integers(min_value=0, max_value=3))
def test_whole_numbers_round_trip_with_leading_zeros(number, zeros):
    assert parse_whole("0" * zeros + str(number), "Count") == number


@pytest.mark.parametrize(("text", "message"), [
    ("", "Count is required"), ("1.0", "whole number"), ("-1", "whole number"),
    (FULL_WIDTH_12, "whole number"), (ARABIC_INDIC_12, "whole number"), ("1e3", "whole number"),
    (str(MAX_WHOLE + 1), f"at most {MAX_WHOLE}"), ("99999999999999999999", "at most"),
    ("9" * 5000, "at most"),
])
def test_whole_numbers_are_ascii_digits_within_the_columns(text, message):
    with pytest.raises(InputError, match=message):
        parse_whole(text, "Count")


def test_an_id_that_can_name_no_record_is_not_found():
    assert parse_id("42") == parse_id(42) == 42
    for value in ("0", "99999999999999999999", 2**63, -1, True, None, ARABIC_INDIC_12, 4.0):
        with pytest.raises(InputError, match=r"^No such ticket\.$"):
            parse_id(value, "No such ticket.")
