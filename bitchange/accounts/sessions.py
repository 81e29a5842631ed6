"""Server-side sessions.

The browser holds a random token in an HttpOnly cookie (set by a backend route, so page scripts
cannot read it); the database holds its hash, the device, and the timestamps that enforce the idle
timeout and the absolute lifetime. Logging in is two steps because a Reflex event cannot set an
HttpOnly cookie: the login handler creates the session with a one-time activation ticket and
sends the browser to `/auth/session?ticket=...`, which swaps the ticket for the cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie

from sqlalchemy import Connection, exists, insert, select, update

from bitchange.accounts.devices import describe
from bitchange.accounts.tables import Passkey
from bitchange.accounts.tokens import new_token, token_hash
from bitchange.clock import now
from bitchange.config import get_settings
from bitchange.db.models import User, UserSession

_sessions = UserSession.__table__
_users = User.__table__
_passkeys = Passkey.__table__

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
    mfa_enabled: bool = False
    has_passkey: bool = False

    @property
    def acts_as_admin(self) -> bool:
        """An admin *with 2FA on* (admins must have it) and, under ADMIN_REQUIRE_PASSKEY, a
        passkey: the one rule for the admin area and for staff fetching private files."""
        return self.is_admin and self.mfa_enabled and (
            self.has_passkey or not get_settings().admin_require_passkey)


def start_session(conn: Connection, user_id: int, *, ip: str = "", user_agent: str = "") -> str:
    """Create a session awaiting activation; returns the one-time ticket."""
    settings = get_settings()
    ticket = new_token()
    conn.execute(insert(_sessions).values(
        user_id=user_id, activation_hash=token_hash(ticket), created_at=now(),
        last_seen_at=now(), expires_at=now() + timedelta(hours=settings.session_absolute_hours),
        ip=ip[:64], user_agent=user_agent[:512], device=describe(user_agent),
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
    # Conditional on the ticket still being unused: two concurrent activations cannot both win.
    swapped = conn.execute(update(_sessions).where(
        _sessions.c.id == row.id, _sessions.c.activation_hash == token_hash(ticket),
        _sessions.c.token_hash.is_(None),
    ).values(token_hash=token_hash(token), activation_hash=None, last_seen_at=now()))
    return token if swapped.rowcount == 1 else None


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
               _users.c.email_verified_at, _users.c.frozen_at, _users.c.closed_at,
               _users.c.totp_enabled_at,
               exists().where(_passkeys.c.user_id == _users.c.id).label("has_passkey"))
        .join(_users, _users.c.id == _sessions.c.user_id)
        .where(_sessions.c.token_hash == token_hash(token), _sessions.c.revoked_at.is_(None))
    ).first()
    if row is None or row.frozen_at is not None or row.closed_at is not None:
        return None
    moment = now()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if moment >= row.expires_at or moment - row.last_seen_at >= idle:
        return None
    return CurrentUser(row.user_id, row.email, bool(row.is_admin),
                       row.email_verified_at is not None, row.id,
                       moment - row.last_seen_at >= TOUCH_EVERY,
                       row.totp_enabled_at is not None, bool(row.has_passkey))


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


@dataclass(frozen=True)
class SessionInfo:
    id: int
    device: str
    ip: str
    first_seen: datetime
    last_seen: datetime


def _active(moment: datetime):  # type: ignore[no-untyped-def]
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    return (_sessions.c.token_hash.is_not(None), _sessions.c.revoked_at.is_(None),
            _sessions.c.expires_at > moment, _sessions.c.last_seen_at > moment - idle)


def list_sessions(conn: Connection, user_id: int) -> list[SessionInfo]:
    """The user's active sessions, most recently used first."""
    rows = conn.execute(select(_sessions).where(
        _sessions.c.user_id == user_id, *_active(now())).order_by(
        _sessions.c.last_seen_at.desc(), _sessions.c.id.desc()))
    return [SessionInfo(r.id, r.device or describe(r.user_agent), r.ip, r.created_at,
                        r.last_seen_at) for r in rows]


def revoke_user_session(conn: Connection, user_id: int, session_id: int) -> bool:
    """End one of *this user's* sessions; False if it is not theirs or already ended."""
    result = conn.execute(update(_sessions).where(
        _sessions.c.id == session_id, _sessions.c.user_id == user_id,
        _sessions.c.revoked_at.is_(None)).values(revoked_at=now()))
    return result.rowcount == 1


def revoke_all_sessions(conn: Connection, user_id: int, *, keep: int | None = None) -> int:
    """End every session of the user (except `keep`); returns how many ended."""
    query = update(_sessions).where(_sessions.c.user_id == user_id,
                                    _sessions.c.revoked_at.is_(None))
    if keep is not None:
        query = query.where(_sessions.c.id != keep)
    return conn.execute(query.values(revoked_at=now())).rowcount
