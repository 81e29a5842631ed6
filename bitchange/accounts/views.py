"""What the security centre and the login history show, as small JSON-ready rows: no Reflex
here, so it is testable without a browser. Each view is built for one user, from their id."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from bitchange.accounts import email_change, history, passkeys, security
from bitchange.accounts.sessions import list_sessions
from bitchange.clock import when

NO_DATA = "—"



@dataclass(frozen=True)
class SecurityView:
    """The security centre's status card and session table for one signed-in user."""

    email: str
    email_verified: bool
    two_factor: bool
    recovery_left: int
    anti_phishing: str
    password_changed: str
    last_login: str
    restrictions: list[str]
    sessions: list[dict[str, str]]
    passwordless: bool = False
    passkeys: list[dict[str, str]] = field(default_factory=list)
    pending_email: str = ""  # a new address waiting for its confirmation


def _last_login(record: history.LoginRecord | None) -> str:
    if record is None:
        return NO_DATA
    return f"{when(record.created_at)} from {record.ip or '?'} ({record.device})"


def security_view(conn: Connection, user_id: int, current_session_id: int) -> SecurityView:
    """`current_session_id` marks the session the page is seen from (it cannot be revoked
    there)."""
    info = security.overview(conn, user_id)
    sessions = [
        {"id": str(s.id), "device": s.device, "ip": s.ip or NO_DATA,
         "first": when(s.first_seen), "last": when(s.last_seen),
         "current": "yes" if s.id == current_session_id else ""}
        for s in list_sessions(conn, user_id)
    ]
    return SecurityView(
        info.email, info.email_verified, info.two_factor, info.recovery_codes_left,
        info.anti_phishing_code, when(info.password_changed_at), _last_login(info.last_login),
        info.restrictions, sessions, info.passwordless,
        [{"id": str(p.id), "name": p.name, "added": when(p.created_at),
          "used": when(p.last_used_at) if p.last_used_at else "never"}
         for p in passkeys.list_passkeys(conn, user_id)],
        email_change.pending_address(conn, user_id))


def login_history_rows(conn: Connection, user_id: int) -> list[dict[str, str]]:
    """The user's login attempts, newest first."""
    return [{"time": when(r.created_at), "result": "success" if r.success else "failed",
             "reason": r.reason, "ip": r.ip or NO_DATA, "device": r.device}
            for r in history.for_user(conn, user_id)]
