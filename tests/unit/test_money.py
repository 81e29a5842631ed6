import pytest

from bitchange.money import AmountError, format_amount, format_asset, format_step, parse_amount


@pytest.mark.parametrize(("text", "precision", "minor"), [
    ("1", 8, 100_000_000), ("0.00000001", 8, 1), ("1.25", 6, 1_250_000),
    (" 65000.12 ", 6, 65_000_120_000), (".5", 1, 5), ("7.", 0, 7), ("0012.50", 2, 1250),
])
def test_parse_is_exact(text, precision, minor):
    assert parse_amount(text, precision) == minor


@pytest.mark.parametrize(("text", "message"), [
    ("", "required"), ("abc", "must be a number"), ("NaN", "must be a number"),
    ("Infinity", "must be a number"), ("-1", "greater than zero"), ("0", "greater than zero"),
    ("0.000000001", "at most 8 decimal places"), ("1" * 30, "too large"),
])
def test_parse_refuses_bad_input_with_a_reason(text, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(text, 8)


def test_display_truncates_and_never_rounds_up():
    assert format_amount(199_999_999, 8, 2) == "1.99"
    assert format_amount(123_456_789_000, 6) == "123,456.789000"
    assert format_amount(5, 8) == "0.00000005"


def test_step_formatting():
    assert format_step(10_000, 6) == "0.01"
    assert format_step(100_000, 8) == "0.001"
    assert format_step(100_000_000, 8) == "1"


@pytest.mark.parametrize(("minor", "precision", "display", "shown"), [
    (150_000 * 10**6, 6, 2, "150,000.00"),  # USDT: its display decimals, not 6 zeros
    (150_000_120_000, 6, 2, "150,000.12"),
    (150_000_120_001, 6, 2, "150,000.120001"),  # more only when the amount has them
    (3 * 10**8 // 2, 8, 6, "1.500000"),  # ETH
    (12_345_678, 8, 6, "0.12345678"),
    (0, 8, 6, "0.000000"),
    (10**16, 8, 8, "100,000,000.00000000"),  # BTC
])
def test_an_asset_amount_shows_its_display_decimals_and_is_never_cut(minor, precision,
                                                                      display, shown):
    assert format_asset(minor, precision, display) == shown
