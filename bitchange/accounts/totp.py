"""Two-factor authentication: TOTP (RFC 6238) with replay protection, and recovery codes
(and, in `verify`, a passkey in place of a code).

A code is accepted for the current 30-second step or one step either side (clock drift), and
only if its step is later than the last accepted one: the same code never works twice. The
QR code is drawn locally (no third-party image service ever sees the secret). The secret is
sealed at rest with a key outside the database (`bitchange.accounts.sealing`).
"""

from __future__ import annotations

import base64
import hmac
import io
import logging
import re
import secrets
from dataclasses import dataclass

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import Connection, delete, insert, or_, select, update

from bitchange.accounts import passkeys
from bitchange.accounts.sealing import UnsealError, seal, unseal
from bitchange.accounts.tables import RecoveryCode
from bitchange.accounts.tokens import token_hash
from bitchange.clock import now
from bitchange.db.models import User

log = logging.getLogger(__name__)
_users = User.__table__
_codes = RecoveryCode.__table__
ISSUER = "BitChange"
STEP = 30
RECOVERY_CODES = 10
_TOTP_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_data_uri: str


def qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _sealed(secret: str, user_id: int) -> str:
    return seal(secret, purpose="totp", owner=user_id)


def _totp(stored: str, user_id: int) -> pyotp.TOTP | None:
    """The user's authenticator, or None if its secret cannot be unsealed (SECRET_KEY was
    changed): then only recovery codes work, and the user sets up 2FA again."""
    try:
        return pyotp.TOTP(unseal(stored, purpose="totp", owner=user_id))
    except UnsealError:
        log.error("the TOTP secret of user %s cannot be unsealed: was SECRET_KEY changed?",
                  user_id)
        return None


def _step_of(totp: pyotp.TOTP | None, code: str) -> int | None:
    """The time step (current, previous or next) whose code this is, or None."""
    if totp is None:
        return None
    code = (code or "").strip().replace(" ", "")
    if not _TOTP_CODE.match(code):
        return None
    current = totp.timecode(now())
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_step(conn: Connection, user_id: int, step: int) -> bool:
    """Record the step as used; False if it (or a later one) was already used (a replay)."""
    result = conn.execute(update(_users).where(
        _users.c.id == user_id,
        or_(_users.c.totp_last_step.is_(None), _users.c.totp_last_step < step),
    ).values(totp_last_step=step))
    return result.rowcount == 1


def is_enabled(conn: Connection, user_id: int) -> bool:
    return conn.scalar(select(_users.c.totp_enabled_at).where(_users.c.id == user_id)) is not None


def begin_enrolment(conn: Connection, user_id: int, email: str) -> Enrolment:
    """A new secret, stored but not active until `confirm_enrolment` sees a valid code."""
    if is_enabled(conn, user_id):
        raise ValueError("Two-factor authentication is already on")
    secret = pyotp.random_base32()
    conn.execute(update(_users).where(_users.c.id == user_id).values(
        totp_secret=_sealed(secret, user_id), totp_last_step=None))
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    return Enrolment(secret, uri, qr_data_uri(uri))


def confirm_enrolment(conn: Connection, user_id: int, code: str) -> list[str] | None:
    """Turn 2FA on if the code matches the pending secret; returns the new recovery codes."""
    row = conn.execute(select(_users.c.totp_secret, _users.c.totp_enabled_at).where(
        _users.c.id == user_id)).one()
    if row.totp_secret is None or row.totp_enabled_at is not None:
        return None
    step = _step_of(_totp(row.totp_secret, user_id), code)
    if step is None or not _accept_step(conn, user_id, step):
        return None
    conn.execute(update(_users).where(_users.c.id == user_id).values(totp_enabled_at=now()))
    return new_recovery_codes(conn, user_id)


def enable_with_secret(conn: Connection, user_id: int, secret: str) -> None:
    """Turn 2FA on with a known secret (the demo admin's); no code check."""
    conn.execute(update(_users).where(_users.c.id == user_id).values(
        totp_secret=_sealed(secret, user_id), totp_enabled_at=now(), totp_last_step=None))


def disable(conn: Connection, user_id: int) -> None:
    conn.execute(update(_users).where(_users.c.id == user_id).values(
        totp_secret=None, totp_enabled_at=None, totp_last_step=None))
    conn.execute(delete(_codes).where(_codes.c.user_id == user_id))


def _normalize_recovery(code: str) -> str:
    return re.sub(r"[^0-9a-z]", "", (code or "").lower())


def new_recovery_codes(conn: Connection, user_id: int) -> list[str]:
    """Replace the user's recovery codes with ten new ones (returned once, stored hashed)."""
    conn.execute(delete(_codes).where(_codes.c.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
        conn.execute(insert(_codes).values(user_id=user_id, code_hash=token_hash(raw),
                                           created_at=now()))
    return codes


def remaining_recovery_codes(conn: Connection, user_id: int) -> int:
    return len(conn.execute(select(_codes.c.id).where(
        _codes.c.user_id == user_id, _codes.c.used_at.is_(None))).all())


def verify(conn: Connection, user_id: int, code: str) -> bool:
    """A second factor for an enabled user: a fresh TOTP code, an unused recovery code, or a
    passkey's answer to a challenge issued for this user (`passkeys.assertion_options`). Every
    step asking for 2FA (login, withdrawals, API keys...) comes here."""
    secret = conn.scalar(select(_users.c.totp_secret).where(
        _users.c.id == user_id, _users.c.totp_enabled_at.is_not(None)))
    if secret is None:
        return False
    if passkeys.is_assertion(code):
        return passkeys.verify(conn, code, user_id=user_id) == user_id
    step = _step_of(_totp(secret, user_id), code)
    if step is not None:
        return _accept_step(conn, user_id, step)
    normalized = _normalize_recovery(code)
    if len(normalized) != 10:
        return False
    used = conn.execute(update(_codes).where(
        _codes.c.user_id == user_id, _codes.c.code_hash == token_hash(normalized),
        _codes.c.used_at.is_(None)).values(used_at=now()))
    return used.rowcount == 1
