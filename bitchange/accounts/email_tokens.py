"""Single-use tokens sent by email: random, stored as SHA-256, expiring, consumed atomically."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, insert, select, update

from bitchange.accounts.tables import EmailToken
from bitchange.accounts.tokens import new_token, token_hash
from bitchange.clock import now

_tokens = EmailToken.__table__

LIFETIMES = {
    "verify": timedelta(hours=24),
    "reset": timedelta(minutes=30),
    "not_me": timedelta(days=7),
}


def issue(conn: Connection, user_id: int, purpose: str) -> str:
    token = new_token()
    conn.execute(insert(_tokens).values(
        user_id=user_id, purpose=purpose, token_hash=token_hash(token), created_at=now(),
        expires_at=now() + LIFETIMES[purpose]))
    return token


def peek(conn: Connection, token: str, purpose: str) -> int | None:
    """The user a valid (unused, unexpired) token belongs to, without using it."""
    if not token:
        return None
    row = conn.execute(select(_tokens.c.user_id, _tokens.c.expires_at).where(
        _tokens.c.token_hash == token_hash(token), _tokens.c.purpose == purpose,
        _tokens.c.used_at.is_(None))).first()
    if row is None or now() >= row.expires_at:
        return None
    return row.user_id


def consume(conn: Connection, token: str, purpose: str) -> int | None:
    """Use the token once: the user id, or None if unknown, expired, used or of another kind.

    The conditional UPDATE makes two concurrent uses of one token succeed at most once."""
    user_id = peek(conn, token, purpose)
    if user_id is None:
        return None
    used = conn.execute(update(_tokens).where(
        _tokens.c.token_hash == token_hash(token), _tokens.c.used_at.is_(None),
    ).values(used_at=now()))
    return user_id if used.rowcount == 1 else None


def void_all(conn: Connection, user_id: int, purpose: str) -> None:
    """Invalidate every outstanding token of a kind (e.g. all reset links after a reset)."""
    conn.execute(update(_tokens).where(
        _tokens.c.user_id == user_id, _tokens.c.purpose == purpose, _tokens.c.used_at.is_(None),
    ).values(used_at=now()))
