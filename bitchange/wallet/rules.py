"""Wallet settings read into typed values: per-asset fees, minimums and confirmations, limits
and thresholds in USDT minor units, and the hold and lock durations."""

from __future__ import annotations

from datetime import timedelta

from bitchange.config import get_settings
from bitchange.money import AmountError, parse_amount

USDT = "USDT"
USDT_PRECISION = 6


def per_asset(text: str) -> dict[str, str]:
    """'BTC=0.0002, ETH=0.002' -> {'BTC': '0.0002', 'ETH': '0.002'}."""
    pairs: dict[str, str] = {}
    for part in (text or "").split(","):
        if "=" in part:
            code, value = part.split("=", 1)
            pairs[code.strip().upper()] = value.strip()
    return pairs


def _amount(text: str, precision: int, what: str) -> int:
    if text.strip() in ("", "0"):
        return 0
    try:
        return parse_amount(text, precision, what=what)
    except AmountError as exc:
        raise ValueError(f"Wallet setting {what}: {exc}") from None


def withdrawal_fee(asset: str, precision: int) -> int:
    return _amount(per_asset(get_settings().withdrawal_fees).get(asset, "0"), precision,
                   f"WITHDRAWAL_FEES[{asset}]")


def withdrawal_minimum(asset: str, precision: int) -> int:
    return _amount(per_asset(get_settings().withdrawal_minimums).get(asset, "0"), precision,
                   f"WITHDRAWAL_MINIMUMS[{asset}]")


def min_confirmations(asset: str) -> int:
    value = per_asset(get_settings().deposit_min_confirmations).get(asset, "1")
    return max(int(value), 0)


def _usdt(text: str, what: str) -> int:
    return _amount(text, USDT_PRECISION, what)


def withdrawal_daily_limit() -> int:
    return _usdt(get_settings().withdrawal_daily_limit_usdt, "WITHDRAWAL_DAILY_LIMIT_USDT")


def withdrawal_four_eyes() -> int:
    return _usdt(get_settings().withdrawal_four_eyes_usdt, "WITHDRAWAL_FOUR_EYES_USDT")


def deposit_second_approval() -> int:
    return _usdt(get_settings().deposit_second_approval_usdt, "DEPOSIT_SECOND_APPROVAL_USDT")


def transfer_daily_limit() -> int:
    return _usdt(get_settings().transfer_daily_limit_usdt, "TRANSFER_DAILY_LIMIT_USDT")


def address_hold() -> timedelta:
    return timedelta(hours=get_settings().withdrawal_address_hold_hours)


def confirm_lifetime() -> timedelta:
    return timedelta(minutes=get_settings().withdrawal_confirm_minutes)


ADDRESS_CONFIRM_LIFETIME = timedelta(hours=24)
DAY = timedelta(hours=24)
