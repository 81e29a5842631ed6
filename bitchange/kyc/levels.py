"""Verification levels and the limits they carry (settings `KYC_WITHDRAWAL_LIMITS_USDT`,
`KYC_TRANSFER_LIMITS_USDT`: "0=2000,1=50000,2=250000", whole USDT per rolling 24 hours).

Limits are returned in USDT minor units (6 decimals), like the wallet's USDT valuations.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from bitchange.config import get_settings
from bitchange.kyc.tables import KycSubmission
from bitchange.money import AmountError, parse_amount

_submissions = KycSubmission.__table__

USDT_PRECISION = 6
LEVELS = {0: "Email verified", 1: "Identity verified", 2: "Address verified"}


@dataclass(frozen=True)
class Limits:
    level: int
    withdrawal_usdt: int  # minor units per 24 hours
    transfer_usdt: int


def _per_level(text: str, what: str) -> dict[int, int]:
    table: dict[int, int] = {}
    for part in (text or "").split(","):
        if "=" not in part:
            continue
        level, value = (x.strip() for x in part.split("=", 1))
        try:
            table[int(level)] = 0 if value in ("", "0") else parse_amount(value, USDT_PRECISION)
        except (ValueError, AmountError) as exc:
            raise ValueError(f"Setting {what}: {part.strip()!r} is not level=amount") from exc
    missing = set(LEVELS) - set(table)
    if missing:
        raise ValueError(f"Setting {what} has no limit for level(s) {sorted(missing)}")
    return table


def limits_for(level: int) -> Limits:
    settings = get_settings()
    withdrawals = _per_level(settings.kyc_withdrawal_limits_usdt, "KYC_WITHDRAWAL_LIMITS_USDT")
    transfers = _per_level(settings.kyc_transfer_limits_usdt, "KYC_TRANSFER_LIMITS_USDT")
    return Limits(level, withdrawals[level], transfers[level])


def level_of(conn: Connection, user_id: int) -> int:
    """2 with approved identity and address, 1 with approved identity, else 0."""
    approved = set(conn.scalars(select(_submissions.c.level).where(
        _submissions.c.user_id == user_id, _submissions.c.status == "approved")))
    if 1 not in approved:
        return 0
    return 2 if 2 in approved else 1


def daily_withdrawal_limit_usdt(conn: Connection, user_id: int) -> int:
    """The user's withdrawal limit per rolling 24 hours, in USDT minor units."""
    return limits_for(level_of(conn, user_id)).withdrawal_usdt


def transfer_limit_usdt(conn: Connection, user_id: int) -> int:
    """The user's internal-transfer limit per rolling 24 hours, in USDT minor units."""
    return limits_for(level_of(conn, user_id)).transfer_usdt
