"""Tables owned by `bitchange.accounts` (besides `users` and `user_sessions` in db.models).

Written only by the modules of this package.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from bitchange.clock import now


class EmailToken(SQLModel, table=True):
    """A single-use token sent by email (verify, reset, "this wasn't me"); only its hash is kept."""

    __tablename__ = "email_tokens"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    purpose: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=now)
    expires_at: datetime
    used_at: datetime | None = None
    __table_args__ = (
        CheckConstraint("purpose IN ('verify', 'reset', 'not_me')", name="ck_email_token_purpose"),
    )


class PasswordHistory(SQLModel, table=True):
    """Previous password hashes, so recent passwords are not reused."""

    __tablename__ = "password_history"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    password_hash: str
    created_at: datetime = Field(default_factory=now)


class RecoveryCode(SQLModel, table=True):
    """One-time 2FA recovery codes (SHA-256 of a random code; shown to the user once)."""

    __tablename__ = "recovery_codes"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=now)
    used_at: datetime | None = None


class LoginEvent(SQLModel, table=True):
    """Login history: every attempt, successful or not, with where it came from."""

    __tablename__ = "login_events"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    success: bool
    # ok | bad_password | bad_code | throttled | frozen
    reason: str = Field(max_length=16)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)
    device: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (Index("ix_login_events_user_time", "user_id", "created_at"),)


class ThrottleEvent(SQLModel, table=True):
    """One counted attempt (a failed login, a reset request...) against a throttle key."""

    __tablename__ = "throttle_events"
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=24)
    # SHA-256 of the subject (an email or an IP), so the table holds no addresses.
    key_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (Index("ix_throttle_scope_key_time", "scope", "key_hash", "created_at"),)


class ApiKey(SQLModel, table=True):
    """A trader's API key (bitchange.accounts.api_keys). HMAC keys keep their secret sealed
    (accounts.sealing, bound to the key's row); Ed25519 keys keep only the public key."""

    __tablename__ = "api_keys"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    label: str = Field(max_length=64)
    kind: str = Field(max_length=8)  # hmac | ed25519
    api_key: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    sealed_secret: str | None = Field(default=None, max_length=160)
    public_key: str | None = Field(default=None, max_length=64)  # raw Ed25519, base64
    scopes: str = Field(max_length=32)  # comma-separated: read, trade, withdraw
    ip_allowlist: str = Field(default="", max_length=2000)  # comma-separated, CIDR allowed
    created_at: datetime = Field(default_factory=now)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    last_used_ip: str | None = Field(default=None, max_length=64)
    revoked_at: datetime | None = None
    revoked_reason: str | None = Field(default=None, max_length=100)
    __table_args__ = (
        CheckConstraint("kind IN ('hmac', 'ed25519')", name="ck_api_key_kind"),
    )


class ApiListenKey(SQLModel, table=True):
    """A user data stream's listenKey (POST /api/v3/userDataStream), valid until it expires
    unless kept alive."""

    __tablename__ = "api_listen_keys"
    id: int | None = Field(default=None, primary_key=True)
    listen_key: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    api_key_id: int = Field(foreign_key="api_keys.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=now)
    expires_at: datetime


class Passkey(SQLModel, table=True):
    """A WebAuthn credential (bitchange.accounts.passkeys): only its public key and its sign
    counter are kept; the private key never leaves the authenticator."""

    __tablename__ = "passkeys"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    credential_id: str = Field(max_length=400, sa_column_kwargs={"unique": True})  # base64url
    public_key: str = Field(max_length=1000)  # COSE key, base64url
    sign_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    name: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=now)
    last_used_at: datetime | None = None


class WebAuthnChallenge(SQLModel, table=True):
    """A challenge handed to the browser for one ceremony: single use, short-lived. `register`
    and `assert` (a second factor) belong to a user; `signin` (passwordless) to nobody yet."""

    __tablename__ = "webauthn_challenges"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    purpose: str = Field(max_length=8)
    challenge: str = Field(max_length=128, sa_column_kwargs={"unique": True})  # base64url
    created_at: datetime = Field(default_factory=now)
    expires_at: datetime
    used_at: datetime | None = None
    __table_args__ = (
        CheckConstraint("purpose IN ('register', 'assert', 'signin')",
                        name="ck_webauthn_challenge_purpose"),
    )


class EmailChange(SQLModel, table=True):
    """A requested change of address, applied only when the link sent to the new address is
    followed (its token kept as a hash)."""

    __tablename__ = "email_changes"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    new_email: str = Field(max_length=254)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    # The session that asked: it stays signed in when the change applies, the others end.
    session_id: int | None = None
    created_at: datetime = Field(default_factory=now)
    expires_at: datetime
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
