"""What the verification screen shows a user: their level, the state of their latest
submission, and the limits of every level (theirs marked). No Reflex here, so it is testable
without a browser; the admins' review screen is `kyc.admin_views`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange.kyc import LEVELS, limits_for
from bitchange.kyc import service as kyc
from bitchange.trading.markets import format_usdt

Row = dict[str, str]


@dataclass(frozen=True)
class VerificationView:
    level: int
    level_name: str
    state: str  # not_submitted | pending | approved | rejected (of the latest submission)
    reason: str  # why the latest submission was rejected ("" otherwise)
    next_level: int  # 0 when fully verified
    limits: list[Row]  # one per level: level, name, withdrawal, transfer, current ("yes"/"")


def limit_rows(current: int) -> list[Row]:
    rows = []
    for level, name in LEVELS.items():
        limits = limits_for(level)
        rows.append({"level": str(level), "name": name,
                     "withdrawal": format_usdt(limits.withdrawal_usdt) + " USDT",
                     "transfer": format_usdt(limits.transfer_usdt) + " USDT",
                     "current": "yes" if level == current else ""})
    return rows


def verification_view(conn: Connection, user_id: int) -> VerificationView:
    status = kyc.status_of(conn, user_id)
    return VerificationView(status.level, LEVELS[status.level], status.state, status.reason,
                            status.next_level or 0, limit_rows(status.level))
