"""Secrets the server must read back (TOTP secrets), sealed at rest with AES-256-GCM.

The key is derived (HKDF-SHA256) from `SECRET_KEY`, which lives outside the database, so a
leaked database or backup does not give away anyone's second factor. Each sealed value is
bound to its purpose and owner (associated data), so it cannot be copied to another user's
row. Stored form: `s1:` + base64url(12-byte nonce + ciphertext + tag).

Rotating `SECRET_KEY` makes sealed values unreadable: users would have to set up 2FA again
(see docs/deploy.md). Values stored before sealing existed are read as they are and sealed by
`seal_legacy_totp_secrets`, which every start runs.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, select, update

from bitchange.config import get_settings
from bitchange.db.models import User

PREFIX = "s1:"
_users = User.__table__


class UnsealError(ValueError):
    """The value was sealed with another key, for another owner, or altered."""


def _key(purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"bitchange/{purpose}".encode()).derive(get_settings().secret_key.encode())


def _aad(purpose: str, owner: int) -> bytes:
    return f"{purpose}:{owner}".encode()


def seal(plaintext: str, *, purpose: str, owner: int) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(purpose)).encrypt(nonce, plaintext.encode(), _aad(purpose, owner))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(stored: str, *, purpose: str, owner: int) -> str:
    if not stored.startswith(PREFIX):
        return stored  # stored before sealing existed; sealed at the next start
    raw = base64.urlsafe_b64decode(stored[len(PREFIX):])
    try:
        return AESGCM(_key(purpose)).decrypt(raw[:12], raw[12:], _aad(purpose, owner)).decode()
    except InvalidTag:
        raise UnsealError(f"cannot unseal the {purpose} of user {owner}") from None


def seal_legacy_totp_secrets(conn: Connection) -> int:
    """Seal TOTP secrets still stored in the clear; returns how many. Idempotent."""
    rows = conn.execute(select(_users.c.id, _users.c.totp_secret).where(
        _users.c.totp_secret.is_not(None), _users.c.totp_secret.not_like(f"{PREFIX}%"))).all()
    for user_id, secret in rows:
        conn.execute(update(_users).where(_users.c.id == user_id).values(
            totp_secret=seal(secret, purpose="totp", owner=user_id)))
    return len(rows)
