"""Wallet tables, written only by `bitchange.wallet`.

Amounts are BIGINT minor units of the row's asset. Every row that moves money records the id of
the ledger transaction that did it, written in the same database transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bitchange.clock import now


def _big(nullable: bool = False, default: int | None = 0):  # type: ignore[no-untyped-def]
    return Field(default=default, sa_column=Column(BigInteger, nullable=nullable, default=default))


class DepositAddress(SQLModel, table=True):
    """A user's deposit address for an asset, derived from the operator's watch-only key.

    `key_id` names the extended public key it came from (a hash of it), so a new key starts a
    new index sequence and the addresses of the old key stay known for crediting."""

    __tablename__ = "deposit_addresses"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    asset: str = Field(foreign_key="assets.code", max_length=10)
    key_id: str = Field(max_length=16)
    derivation_index: int
    address: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        UniqueConstraint("asset", "address", name="uq_deposit_address"),
        UniqueConstraint("asset", "key_id", "derivation_index", name="uq_deposit_address_index"),
        UniqueConstraint("user_id", "asset", "key_id", name="uq_deposit_address_user"),
        CheckConstraint("derivation_index >= 0", name="ck_deposit_address_index"),
    )


class Deposit(SQLModel, table=True):
    """A confirmed on-chain deposit, credited at most once per (asset, txid, output index)."""

    __tablename__ = "deposits"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    asset: str = Field(foreign_key="assets.code", max_length=10)
    amount: int = _big()
    txid: str = Field(max_length=100)
    vout: int
    address: str = Field(default="", max_length=100)
    confirmations: int
    value_usdt: int | None = _big(nullable=True, default=None)  # at recording, None if unpriced
    # pending_approval (above the threshold, waiting for a second admin) | credited | rejected
    status: str = Field(max_length=16)
    source: str = Field(default="admin", max_length=32)  # "admin" or "watcher:<name>"
    recorded_by: int | None = Field(default=None, foreign_key="users.id")
    approved_by: int | None = Field(default=None, foreign_key="users.id")
    reject_reason: str = Field(default="", max_length=200)
    ledger_tx_id: int | None = Field(default=None, foreign_key="ledger_transactions.id")
    created_at: datetime = Field(default_factory=now)
    credited_at: datetime | None = None
    __table_args__ = (
        UniqueConstraint("asset", "txid", "vout", name="uq_deposit_output"),
        CheckConstraint("amount > 0 AND vout >= 0 AND confirmations >= 0",
                        name="ck_deposit_amounts"),
        CheckConstraint("status IN ('pending_approval', 'credited', 'rejected')",
                        name="ck_deposit_status"),
        Index("ix_deposits_user", "user_id", "id"),
    )


class WithdrawalAddress(SQLModel, table=True):
    """The user's address book. An entry is usable once confirmed from the emailed link and
    after the hold that starts when it was added."""

    __tablename__ = "withdrawal_addresses"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    asset: str = Field(foreign_key="assets.code", max_length=10)
    address: str = Field(max_length=100)
    label: str = Field(default="", max_length=60)
    created_at: datetime = Field(default_factory=now)
    confirmed_at: datetime | None = None
    removed_at: datetime | None = None
    token_hash: str | None = Field(default=None, max_length=64,
                                   sa_column_kwargs={"unique": True})
    token_expires_at: datetime | None = None
    __table_args__ = (
        UniqueConstraint("user_id", "asset", "address", name="uq_withdrawal_address"),
    )


class Withdrawal(SQLModel, table=True):
    """A withdrawal request; `status` moves only along `withdrawals.TRANSITIONS`."""

    __tablename__ = "withdrawals"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    asset: str = Field(foreign_key="assets.code", max_length=10)
    address_id: int = Field(foreign_key="withdrawal_addresses.id")
    address: str = Field(max_length=100)  # copied: the request is bound to it
    amount: int = _big()  # held and debited; the recipient gets amount - fee
    fee: int = _big()
    value_usdt: int | None = _big(nullable=True, default=None)
    # awaiting_email | pending_review | approved | sent | rejected | cancelled
    status: str = Field(max_length=16)
    token_hash: str | None = Field(default=None, max_length=64,
                                   sa_column_kwargs={"unique": True})
    token_expires_at: datetime | None = None
    first_approver: int | None = Field(default=None, foreign_key="users.id")
    second_approver: int | None = Field(default=None, foreign_key="users.id")
    needs_two_approvals: bool = False
    txid: str = Field(default="", max_length=100)
    reason: str = Field(default="", max_length=200)  # rejection or cancellation reason
    hold_tx_id: int | None = Field(default=None, foreign_key="ledger_transactions.id")
    final_tx_id: int | None = Field(default=None, foreign_key="ledger_transactions.id")
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
    __table_args__ = (
        CheckConstraint("amount > 0 AND fee >= 0 AND fee < amount", name="ck_withdrawal_amounts"),
        CheckConstraint(
            "status IN ('awaiting_email', 'pending_review', 'approved', 'sent', 'rejected', "
            "'cancelled')", name="ck_withdrawal_status"),
        Index("ix_withdrawals_user", "user_id", "id"),
        Index("ix_withdrawals_status", "status", "id"),
    )


class WithdrawalEvent(SQLModel, table=True):
    """Every step of a withdrawal: who (user, admin or system), from which status to which."""

    __tablename__ = "withdrawal_events"
    id: int | None = Field(default=None, primary_key=True)
    withdrawal_id: int = Field(foreign_key="withdrawals.id", index=True)
    action: str = Field(max_length=16)
    from_status: str = Field(default="", max_length=16)
    to_status: str = Field(max_length=16)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    actor_role: str = Field(max_length=8)  # user | admin | system
    detail: str = Field(default="", max_length=200)
    ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=now)


class Transfer(SQLModel, table=True):
    """An internal transfer between two BitChange users: instant, through the ledger."""

    __tablename__ = "transfers"
    id: int | None = Field(default=None, primary_key=True)
    from_user: int = Field(foreign_key="users.id")
    to_user: int = Field(foreign_key="users.id")
    asset: str = Field(foreign_key="assets.code", max_length=10)
    amount: int = _big()
    value_usdt: int | None = _big(nullable=True, default=None)
    note: str = Field(default="", max_length=140)
    ledger_tx_id: int | None = Field(default=None, foreign_key="ledger_transactions.id")
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        CheckConstraint("amount > 0 AND from_user <> to_user", name="ck_transfer"),
        Index("ix_transfers_from", "from_user", "id"),
        Index("ix_transfers_to", "to_user", "id"),
    )


class WalletControl(SQLModel, table=True):
    """Operator switches: `withdrawals:*` pauses every withdrawal, `withdrawals:BTC` one asset."""

    __tablename__ = "wallet_controls"
    key: str = Field(primary_key=True, max_length=32)
    paused: bool = False
    reason: str = Field(default="", max_length=200)
    updated_by: int | None = Field(default=None, foreign_key="users.id")
    updated_at: datetime = Field(default_factory=now)
