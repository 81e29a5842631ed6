"""Changing the account's email address.

Asked with the password (and the 2FA code when it is on); the link goes to the new address, a
notice with a "this wasn't me" link to the current one. Nothing changes until the new address
follows its link; then every other session ends (the one that asked stays), and withdrawals
and API-key creation wait out the security lock (`users.email_changed_at`). An address that
already has an account gets a notice instead of a link, and the asker the same answer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, insert, select, update

from bitchange import routes
from bitchange.accounts import email_tokens, reauth
from bitchange.accounts.notices import notify
from bitchange.accounts.sessions import revoke_all_sessions
from bitchange.accounts.tables import EmailChange
from bitchange.accounts.tokens import new_token, token_hash
from bitchange.accounts.users import AccountError, normalize_email
from bitchange.clock import now
from bitchange.db.models import User
from bitchange.mail.templates import Link, public_link

_users = User.__table__
_changes = EmailChange.__table__
LIFETIME = timedelta(hours=24)


def _pending(user_id: int):  # type: ignore[no-untyped-def]
    return (_changes.c.user_id == user_id, _changes.c.confirmed_at.is_(None),
            _changes.c.cancelled_at.is_(None), _changes.c.expires_at > now())


def pending_address(conn: Connection, user_id: int) -> str:
    """The address waiting for its confirmation, or ""."""
    return conn.scalar(select(_changes.c.new_email).where(*_pending(user_id)).order_by(
        _changes.c.id.desc()).limit(1)) or ""


def cancel_pending(conn: Connection, user_id: int) -> None:
    conn.execute(update(_changes).where(*_pending(user_id)).values(cancelled_at=now()))


def request(conn: Connection, user_id: int, new_email: str, password: str, code: str, *,
            session_id: int | None) -> str:
    new = normalize_email(new_email)
    current = conn.scalar(select(_users.c.email).where(_users.c.id == user_id))
    if new == current:
        raise AccountError("That is already your email address.")
    reauth.check(conn, user_id, password, code, need_two_factor=False)
    cancel_pending(conn, user_id)
    answer = (f"We sent a confirmation link to {new}. Your address changes only when you "
              "follow it (within 24 hours).")
    if conn.scalar(select(_users.c.id).where(_users.c.email == new)) is not None:
        notify(conn, user_id, "email_change_taken", "Someone tried to use this address", [
            "Someone asked to move another BitChange account to this email address, which "
            "already has an account. Nothing was changed.",
            "If it was not you, you can ignore this message.",
        ], to=new)
        return answer
    token = new_token()
    conn.execute(insert(_changes).values(
        user_id=user_id, new_email=new, token_hash=token_hash(token), session_id=session_id,
        created_at=now(), expires_at=now() + LIFETIME))
    notify(conn, user_id, "email_change_confirm", "Confirm your new email address", [
        "You asked to use this address for your BitChange account.",
        "Your address changes when you follow the link, within 24 hours. Withdrawals and new "
        "API keys are then paused for 24 hours, for your protection.",
    ], link=Link("Confirm my new address",
                 public_link(routes.CONFIRM_EMAIL_CHANGE, token=token)), to=new)
    not_me = email_tokens.issue(conn, user_id, "not_me")
    notify(conn, user_id, "email_change_requested", "A change of your email address was asked", [
        f"Someone (hopefully you) asked to change the address of your account to {new}.",
        "It changes only once the new address confirms it.",
        "If this was not you, secure your account now: the link below ends every session, "
        "cancels the change and freezes the account until support unfreezes it.",
    ], footer_link=Link("This wasn't me: end all sessions and freeze my account",
                        public_link(routes.NOT_ME, token=not_me)))
    return answer


def confirm(conn: Connection, token: str) -> bool:
    """The link in the new address's email: apply the change. False if the link is unknown,
    used, cancelled or expired, or the address was taken meanwhile."""
    if not token:
        return False
    row = conn.execute(select(_changes).where(
        _changes.c.token_hash == token_hash(token), _changes.c.confirmed_at.is_(None),
        _changes.c.cancelled_at.is_(None), _changes.c.expires_at > now())).first()
    if row is None:
        return False
    frozen = conn.scalar(select(_users.c.frozen_at).where(_users.c.id == row.user_id))
    taken = conn.scalar(select(_users.c.id).where(_users.c.email == row.new_email))
    if frozen is not None or taken is not None:
        cancel_pending(conn, row.user_id)
        return False
    used = conn.execute(update(_changes).where(
        _changes.c.id == row.id, _changes.c.confirmed_at.is_(None)).values(confirmed_at=now()))
    if used.rowcount != 1:
        return False
    old = conn.scalar(select(_users.c.email).where(_users.c.id == row.user_id))
    moment = now()
    conn.execute(update(_users).where(_users.c.id == row.user_id).values(
        email=row.new_email, email_changed_at=moment, email_verified_at=moment))
    revoke_all_sessions(conn, row.user_id, keep=row.session_id)
    email_tokens.void_all(conn, row.user_id, "reset")
    email_tokens.void_all(conn, row.user_id, "verify")
    notify(conn, row.user_id, "email_changed", "Your email address was changed", [
        f"The address of your BitChange account is now {row.new_email}; {old} no longer "
        "receives its messages.",
        "Withdrawals and new API keys are paused for 24 hours, and every other session was "
        "ended. If you did not do this, use the \u201cthis wasn't me\u201d link we sent to "
        f"{old}, or contact support.",
    ], to=old)
    return True
