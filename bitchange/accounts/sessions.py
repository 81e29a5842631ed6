"""Server-side sessions.

The browser holds a random token in an HttpOnly cookie (set by a backend route, so page scripts
cannot read it); the database holds its hash, the device, and the timestamps that enforce the idle
timeout and the absolute lifetime. Logging in is two steps because a Reflex event cannot set an
HttpOnly cookie: the login handler creates the session with a one-time activation ticket and
sends the browser to `/auth/session?ticket=...`, which swaps the ticket for the cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie

from sqlalchemy import Connection, insert, select, update

from bitchange.accounts.tokens import new_token, token_hash
from bitchange.clock import now
from bitchange.config import get_settings
from bitchange.db.models import User, UserSession

_sessions = UserSession.__table__
_users = User.__table__

TICKET_LIFETIME = timedelta(seconds=60)
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is refreshed at most this often


def cookie_name() -> str:
    # The __Host- prefix makes browsers refuse the cookie unless Secure, host-only, Path=/.
    return "__Host-bc_session" if get_settings().cookie_secure else "bc_session"


@dataclass(frozen=True)
class CurrentUser:
    user_id: int
    email: str
    is_admin: bool
    email_verified: bool
    session_id: int
    needs_touch: bool = False


def start_session(conn: Connection, user_id: int, *, ip: str = "", user_agent: str = "") -> str:
    """Create a session awaiting activation; returns the one-time ticket."""
    settings = get_settings()
    ticket = new_token()
    conn.execute(insert(_sessions).values(
        user_id=user_id, activation_hash=token_hash(ticket), created_at=now(),
        last_seen_at=now(), expires_at=now() + timedelta(hours=settings.session_absolute_hours),
        ip=ip[:64], user_agent=user_agent[:512],
    ))
    return ticket


def activate_session(conn: Connection, ticket: str) -> str | None:
    """Swap a fresh, unused ticket for the session token the cookie will carry."""
    row = conn.execute(select(_sessions.c.id, _sessions.c.created_at).where(
        _sessions.c.activation_hash == token_hash(ticket),
        _sessions.c.token_hash.is_(None), _sessions.c.revoked_at.is_(None),
    )).first()
    if row is None or now() - row.created_at > TICKET_LIFETIME:
        return None
    token = new_token()
    conn.execute(update(_sessions).where(_sessions.c.id == row.id).values(
        token_hash=token_hash(token), activation_hash=None, last_seen_at=now()))
    return token


def token_from_cookie_header(cookie_header: str) -> str:
    try:
        jar = SimpleCookie(cookie_header or "")
    except CookieError:
        return ""
    morsel = jar.get(cookie_name())
    return morsel.value if morsel else ""


def resolve_session(conn: Connection, token: str) -> CurrentUser | None:
    """The signed-in user for a session token, or None if unknown, revoked, idle or expired.

    Read-only: when `needs_touch` is set the caller refreshes `last_seen_at` with `touch`."""
    if not token:
        return None
    row = conn.execute(
        select(_sessions.c.id, _sessions.c.last_seen_at, _sessions.c.expires_at,
               _users.c.id.label("user_id"), _users.c.email, _users.c.is_admin,
               _users.c.email_verified_at, _users.c.frozen_at)
        .join(_users, _users.c.id == _sessions.c.user_id)
        .where(_sessions.c.token_hash == token_hash(token), _sessions.c.revoked_at.is_(None))
    ).first()
    if row is None or row.frozen_at is not None:
        return None
    moment = now()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if moment >= row.expires_at or moment - row.last_seen_at >= idle:
        return None
    return CurrentUser(row.user_id, row.email, bool(row.is_admin),
                       row.email_verified_at is not None, row.id,
                       moment - row.last_seen_at >= TOUCH_EVERY)


def touch(conn: Connection, session_id: int) -> None:
    conn.execute(update(_sessions).where(_sessions.c.id == session_id).values(last_seen_at=now()))


def revoke_session(conn: Connection, session_id: int) -> None:
    conn.execute(update(_sessions).where(
        _sessions.c.id == session_id, _sessions.c.revoked_at.is_(None)).values(revoked_at=now()))


def revoke_token(conn: Connection, token: str) -> None:
    if token:
        conn.execute(update(_sessions).where(
            _sessions.c.token_hash == token_hash(token), _sessions.c.revoked_at.is_(None)
        ).values(revoked_at=now()))
