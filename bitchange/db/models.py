"""Tables. Money columns are BIGINT minor units; timestamps are aware UTC (see `clock`).

The ledger's tables (`ledger_accounts`, `balances`, `ledger_transactions`, `ledger_entries`) are
written only by `bitchange.ledger`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from bitchange.clock import now


def _money(**kwargs) -> Field:  # type: ignore[valid-type]
    return Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0, **kwargs))


class Asset(SQLModel, table=True):
    __tablename__ = "assets"
    code: str = Field(primary_key=True, max_length=10)
    name: str
    precision: int = Field(description="decimal places of one minor unit (at most 8)")
    display_decimals: int
    __table_args__ = (CheckConstraint("precision >= 0 AND precision <= 8", name="ck_precision"),)


class Market(SQLModel, table=True):
    __tablename__ = "markets"
    symbol: str = Field(primary_key=True, max_length=21)
    base: str = Field(foreign_key="assets.code")
    quote: str = Field(foreign_key="assets.code")
    # Price is quote minor units per one whole base unit; quantity is base minor units.
    tick_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    lot_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    min_notional: int = Field(sa_column=Column(BigInteger, nullable=False))
    maker_fee_bps: int = 10
    taker_fee_bps: int = 20
    status: str = Field(default="active", max_length=10)
    sort_order: int = 0
    __table_args__ = (
        CheckConstraint("status IN ('active', 'halted')", name="ck_market_status"),
        CheckConstraint("tick_size > 0 AND lot_size > 0 AND min_notional >= 0", name="ck_filters"),
        CheckConstraint(
            "maker_fee_bps BETWEEN 0 AND 1000 AND taker_fee_bps BETWEEN 0 AND 1000",
            name="ck_fees",
        ),
    )


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True, "nullable": False})
    password_hash: str
    is_admin: bool = False
    email_verified_at: datetime | None = None
    frozen_at: datetime | None = None
    created_at: datetime = Field(default_factory=now)
    # Why the account is frozen ("not me" link, support action); empty when not frozen.
    frozen_reason: str | None = Field(default=None, max_length=200)
    password_changed_at: datetime | None = None
    # TOTP: the secret is written at enrolment and counts only once `totp_enabled_at` is set.
    totp_secret: str | None = Field(default=None, max_length=128)  # sealed: accounts.sealing
    totp_enabled_at: datetime | None = None
    # The last accepted time step: a code for this step or an earlier one is refused (replay).
    totp_last_step: int | None = None
    # Printed in every email we send this user, so they can tell a phishing copy apart.
    anti_phishing_code: str | None = Field(default=None, max_length=40)
    # Sign in with a passkey alone (no password), where the user turned it on.
    passwordless: bool = False
    # When the address last changed (a confirmed email change): starts the security lock.
    email_changed_at: datetime | None = None
    # A closed account keeps its records but can no longer log in or use an API key.
    closed_at: datetime | None = None


class UserSession(SQLModel, table=True):
    """A server-side login: the browser holds the token, the database only its hash."""

    __tablename__ = "user_sessions"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    # Set when the browser receives its cookie; until then only the one-time activation
    # ticket (handed over through a redirect) exists.
    token_hash: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    activation_hash: str | None = Field(
        default=None, max_length=64, sa_column_kwargs={"unique": True}
    )
    created_at: datetime = Field(default_factory=now)
    last_seen_at: datetime = Field(default_factory=now)
    expires_at: datetime
    revoked_at: datetime | None = None
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)
    # "Firefox on Windows", parsed from the user agent when the session starts.
    device: str | None = Field(default=None, max_length=100)


class LedgerAccount(SQLModel, table=True):
    """Who can own money: one account per user, plus named system accounts."""

    __tablename__ = "ledger_accounts"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(
        default=None, foreign_key="users.id", sa_column_kwargs={"unique": True}
    )
    system_code: str | None = Field(
        default=None, max_length=32, sa_column_kwargs={"unique": True}
    )
    # Only the outside-world account may go negative: its balance mirrors what came in.
    allow_negative: bool = False
    __table_args__ = (
        CheckConstraint(
            "(user_id IS NULL) <> (system_code IS NULL)", name="ck_account_owner_xor_system"
        ),
    )


class Balance(SQLModel, table=True):
    __tablename__ = "balances"
    account_id: int = Field(foreign_key="ledger_accounts.id", primary_key=True)
    asset: str = Field(foreign_key="assets.code", primary_key=True, max_length=10)
    available: int = _money()
    locked: int = _money()
    allow_negative: bool = False
    __table_args__ = (
        # The database itself refuses a negative balance on any account but the outside world.
        CheckConstraint(
            "allow_negative OR (available >= 0 AND locked >= 0)", name="ck_balance_non_negative"
        ),
    )


class LedgerTransaction(SQLModel, table=True):
    """One atomic money operation; its entries sum to zero per asset."""

    __tablename__ = "ledger_transactions"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    ref_type: str = Field(default="", max_length=32)
    ref_id: str = Field(default="", max_length=64)
    memo: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (Index("ix_ledger_tx_ref", "ref_type", "ref_id"),)


class LedgerEntry(SQLModel, table=True):
    """Append-only journal line: a signed change of one bucket of one balance."""

    __tablename__ = "ledger_entries"
    id: int | None = Field(default=None, primary_key=True)
    transaction_id: int = Field(foreign_key="ledger_transactions.id", index=True)
    account_id: int = Field(foreign_key="ledger_accounts.id")
    asset: str = Field(foreign_key="assets.code", max_length=10)
    bucket: str = Field(max_length=9)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    __table_args__ = (
        CheckConstraint("bucket IN ('available', 'locked')", name="ck_entry_bucket"),
        CheckConstraint("amount <> 0", name="ck_entry_nonzero"),
        Index("ix_ledger_entries_account_asset", "account_id", "asset"),
    )


class AdminAuditLog(SQLModel, table=True):
    __tablename__ = "admin_audit_log"
    id: int | None = Field(default=None, primary_key=True)
    admin_id: int | None = Field(default=None, foreign_key="users.id")
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=128)
    detail: str = Field(default="", max_length=1000)
    ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=now, index=True)


