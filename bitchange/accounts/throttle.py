"""Throttling of logins, code checks, reset and verification requests.

Each counted attempt is a row (scope, hash of the subject, time). Within `WINDOW`, once a key
has `free` attempts, the next one must wait `base * 2**(n - free)` after the last (capped at
`cap`): growing delays that end in a temporary lock. Keys are hashed, so the same code path
runs whether or not an account exists for an email.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, delete, func, insert, select

from bitchange.accounts.tables import ThrottleEvent
from bitchange.clock import now

_events = ThrottleEvent.__table__
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Policy:
    free: int
    base: timedelta
    cap: timedelta


POLICIES: dict[str, Policy] = {
    # failed logins (password or 2FA code) per account and per IP
    "login_account": Policy(free=5, base=timedelta(seconds=30), cap=timedelta(minutes=15)),
    "login_ip": Policy(free=20, base=timedelta(seconds=30), cap=timedelta(minutes=15)),
    # requests that send an email: per address and per IP
    "email_account": Policy(free=3, base=timedelta(minutes=5), cap=timedelta(minutes=15)),
    "email_ip": Policy(free=10, base=timedelta(minutes=1), cap=timedelta(minutes=15)),
    # re-entering a password or code inside the security centre
    "reauth": Policy(free=5, base=timedelta(seconds=30), cap=timedelta(minutes=15)),
    # promo codes that do not exist (guessing), per account and per IP
    "promo_account": Policy(free=5, base=timedelta(seconds=30), cap=timedelta(minutes=15)),
    "promo_ip": Policy(free=20, base=timedelta(seconds=30), cap=timedelta(minutes=15)),
}


def _key(subject: str) -> str:
    return hashlib.sha256((subject or "-").strip().lower().encode()).hexdigest()


def retry_after(conn: Connection, scope: str, subject: str) -> timedelta | None:
    """How long until the next attempt is allowed, or None if it is allowed now."""
    policy = POLICIES[scope]
    moment = now()
    count, last = conn.execute(
        select(func.count(), func.max(_events.c.created_at)).where(
            _events.c.scope == scope, _events.c.key_hash == _key(subject),
            _events.c.created_at > moment - WINDOW)
    ).one()
    if count < policy.free or last is None:
        return None
    wait = min(policy.base * 2 ** (count - policy.free), policy.cap)
    remaining = last + wait - moment
    return remaining if remaining > timedelta(0) else None


def hit(conn: Connection, scope: str, subject: str) -> None:
    conn.execute(insert(_events).values(scope=scope, key_hash=_key(subject), created_at=now()))


def clear(conn: Connection, scope: str, subject: str) -> None:
    conn.execute(delete(_events).where(_events.c.scope == scope,
                                       _events.c.key_hash == _key(subject)))


def first_blocked(conn: Connection, checks: list[tuple[str, str]]) -> timedelta | None:
    """The longest wait among several (scope, subject) checks, or None if all are free."""
    waits = [w for scope, subject in checks if (w := retry_after(conn, scope, subject))]
    return max(waits) if waits else None


def describe_wait(wait: timedelta) -> str:
    seconds = int(wait.total_seconds()) + 1
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


def prune(conn: Connection) -> int:
    """Forget attempts older than the window (for a cleanup job)."""
    return conn.execute(delete(_events).where(_events.c.created_at < now() - WINDOW)).rowcount
