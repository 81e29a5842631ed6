"""The lock after a security change: for WITHDRAWAL_SECURITY_LOCK_HOURS (24 h by default) after
a password change, 2FA being turned on or an email change, nothing leaves the account
(withdrawals, transfers: bitchange.wallet.policy), and after a password or email change no API
key is created (turning 2FA on is what allows keys in the first place)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bitchange.clock import now
from bitchange.config import get_settings


def changes(row: Any) -> list[tuple[datetime, str]]:
    """The security changes of a `users` row: (when, "password" | "two-factor" | "email")."""
    found = [(row.password_changed_at, "password"), (row.totp_enabled_at, "two-factor"),
             (row.email_changed_at, "email")]
    return [(moment, kind) for moment, kind in found if moment is not None]


def lock_period() -> timedelta:
    return timedelta(hours=get_settings().withdrawal_security_lock_hours)


def locked_until(row: Any, kinds: tuple[str, ...] = ("password", "two-factor", "email")
                 ) -> tuple[datetime, str] | None:
    """(end of the lock, kind of change) while the newest change's lock lasts, else None."""
    found = [(moment, kind) for moment, kind in changes(row) if kind in kinds]
    if not found:
        return None
    latest, kind = max(found)
    until = latest + lock_period()
    return (until, kind) if now() < until else None
