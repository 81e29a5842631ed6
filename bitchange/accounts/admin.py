"""What admins can see and do to user accounts. Every action is audited in the same
transaction; the caller (a state) has already checked that the actor is an admin with 2FA."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, or_, select, update

from bitchange.accounts import api_keys, audit, history, totp
from bitchange.accounts.notices import notify
from bitchange.accounts.sessions import SessionInfo, list_sessions, revoke_all_sessions
from bitchange.accounts.users import AccountError
from bitchange.clock import now
from bitchange.db.models import User
from bitchange.inputs import InputError, parse_id
from bitchange.wallet.withdrawals import reject_for_frozen_account

_users = User.__table__


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    is_admin: bool
    verified: bool
    two_factor: bool
    frozen: bool
    created_at: datetime


@dataclass(frozen=True)
class UserDetail:
    user: UserRow
    frozen_reason: str
    sessions: list[SessionInfo]
    logins: list[history.LoginRecord]


def _row(r) -> UserRow:  # type: ignore[no-untyped-def]
    return UserRow(r.id, r.email, bool(r.is_admin), r.email_verified_at is not None,
                   r.totp_enabled_at is not None, r.frozen_at is not None, r.created_at)


def search_users(conn: Connection, query: str = "", limit: int = 50) -> list[UserRow]:
    q = select(_users).order_by(_users.c.id).limit(limit)
    text = (query or "").strip().lower()
    if text:
        conditions = [_users.c.email.contains(text)]
        with contextlib.suppress(InputError):  # not an id: search the emails only
            conditions.append(_users.c.id == parse_id(text))
        q = q.where(or_(*conditions))
    return [_row(r) for r in conn.execute(q)]


def count_users(conn: Connection) -> int:
    return conn.scalar(select(func.count()).select_from(_users)) or 0


def user_detail(conn: Connection, user_id: int) -> UserDetail | None:
    r = conn.execute(select(_users).where(_users.c.id == user_id)).first()
    if r is None:
        return None
    return UserDetail(_row(r), r.frozen_reason or "", list_sessions(conn, user_id),
                      history.for_user(conn, user_id, limit=50))


def _target(conn: Connection, user_id: int) -> str:
    email = conn.scalar(select(_users.c.email).where(_users.c.id == user_id))
    if email is None:
        raise AccountError("No such user.")
    return f"user:{user_id} {email}"


def freeze(conn: Connection, admin_id: int, user_id: int, *, ip: str, reason: str = "") -> None:
    if admin_id == user_id:
        raise AccountError("You cannot freeze your own account.")
    target = _target(conn, user_id)
    conn.execute(update(_users).where(_users.c.id == user_id).values(
        frozen_at=now(), frozen_reason=(reason or "frozen by support")[:200]))
    revoke_all_sessions(conn, user_id)
    rejected = reject_open_withdrawals(conn, user_id)
    api_keys.disable_all(conn, user_id, "account frozen", actor_id=admin_id, ip=ip)
    audit.record(conn, admin_id, "freeze", target, ip=ip, detail="; ".join(filter(None, (
        reason, f"{rejected} open withdrawals rejected" if rejected else ""))))


def reject_open_withdrawals(conn: Connection, user_id: int) -> int:
    """In the freezing transaction: reject the user's open withdrawals (funds released), so
    nothing in flight is paid out of a frozen account."""
    return reject_for_frozen_account(conn, user_id)


def unfreeze(conn: Connection, admin_id: int, user_id: int, *, ip: str) -> None:
    target = _target(conn, user_id)
    conn.execute(update(_users).where(_users.c.id == user_id).values(
        frozen_at=None, frozen_reason=None))
    audit.record(conn, admin_id, "unfreeze", target, ip=ip)
    notify(conn, user_id, "account_unfrozen", "Your account is unfrozen", [
        "Support unfroze your BitChange account. You can log in again.",
        "If you did not ask for this, contact support immediately.",
    ])


def end_sessions(conn: Connection, admin_id: int, user_id: int, *, ip: str) -> int:
    target = _target(conn, user_id)
    ended = revoke_all_sessions(conn, user_id)
    audit.record(conn, admin_id, "end_sessions", target, ip=ip, detail=f"{ended} sessions")
    return ended


def reset_two_factor(conn: Connection, admin_id: int, user_id: int, *, ip: str) -> None:
    target = _target(conn, user_id)
    totp.disable(conn, user_id)
    revoke_all_sessions(conn, user_id)
    api_keys.disable_all(conn, user_id, "2FA reset by support", actor_id=admin_id, ip=ip)
    audit.record(conn, admin_id, "reset_2fa", target, ip=ip)
    notify(conn, user_id, "2fa_disabled", "Two-factor authentication was reset", [
        "Support turned off two-factor authentication on your account, and ended every session.",
        "Turn it on again in the security centre after you log in.",
        "If you did not ask for this, contact support immediately.",
    ])
