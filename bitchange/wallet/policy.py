"""Who may move money out of their account right now (withdrawals and transfers), and why not.

Refusals, in order: frozen account, unconfirmed email, 2FA off, a password / 2FA / email change
within the security lock (24h by default; bitchange.accounts.security_lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from bitchange.accounts import throttle, totp
from bitchange.accounts.security_lock import changes as _security_changes
from bitchange.accounts.security_lock import lock_period
from bitchange.clock import now
from bitchange.db.models import User
from bitchange.wallet.errors import WalletError

_users = User.__table__
CODE_FAILURE = "That 2FA code is not valid. Use a new code from your app."


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Sender:
    user_id: int
    email: str
    created_at: datetime
    last_security_change: datetime | None
    security_change_kind: str


def check_can_send(conn: Connection, user_id: int, *, lock: bool = True) -> Sender:
    """The sender if they may withdraw or transfer now, else WalletError with the reason.

    With `lock`, the user's row is locked (`FOR NO KEY UPDATE` on PostgreSQL; SQLite's writer
    lock already serialises), so checks and holds of concurrent requests of one user run in
    turn. NO KEY: rows that merely reference the user (a transfer to them, their emails) are
    not held up by it; a plain FOR UPDATE made opposite transfers A->B, B->A deadlock."""
    query = select(_users).where(_users.c.id == user_id)
    if lock:
        query = query.with_for_update(key_share=True)
    row = conn.execute(query).first()
    if row is None:
        raise WalletError("Please log in again.")
    if row.frozen_at is not None:
        raise WalletError("Your account is frozen for your protection: withdrawals and "
                          "transfers are disabled. Contact support.")
    if row.email_verified_at is None:
        raise WalletError("Confirm your email address before moving funds out.")
    if row.totp_enabled_at is None:
        raise WalletError("Turn on two-factor authentication in the security centre first: "
                          "it is required to move funds out.")
    changes = _security_changes(row)
    latest, kind = max(changes) if changes else (None, "")
    if latest is not None and now() < latest + lock_period():
        raise WalletError(
            f"Withdrawals and transfers are locked until {_fmt(latest + lock_period())} "
            f"after the recent {kind} change on your account, for your protection.")
    return Sender(user_id, row.email, row.created_at, latest, kind)


class BadCode(WalletError):
    """The 2FA code was wrong: the caller records the failed attempt in its own transaction."""


def check_code(conn: Connection, sender: Sender, code: str) -> None:
    wait = throttle.retry_after(conn, "reauth", sender.email)
    if wait:
        raise WalletError(f"Too many attempts. Try again in {throttle.describe_wait(wait)}.")
    if not totp.verify(conn, sender.user_id, code):
        raise BadCode(CODE_FAILURE)


def record_bad_code(conn: Connection, user_id: int) -> None:
    email = conn.scalar(select(_users.c.email).where(_users.c.id == user_id))
    if email:
        throttle.hit(conn, "reauth", email)
