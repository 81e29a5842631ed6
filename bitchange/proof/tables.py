"""Proof-of-liabilities tables, written only by `bitchange.proof`.

A snapshot keeps what its proofs are rebuilt from: the salt (sealed, `accounts.sealing`), every
real leaf (position, user, part, amounts) and the roots of its blocks (subtrees of
2**block_height leaves), so a proof rebuilds one block, not the whole tree. Amount vectors are
JSON lists of decimal strings in the snapshot's asset order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bitchange.clock import now


class LiabilitySnapshot(SQLModel, table=True):
    __tablename__ = "liability_snapshots"
    id: int | None = Field(default=None, primary_key=True)
    taken_at: datetime = Field(default_factory=now, index=True)
    # The ledger as of this snapshot: every transaction and entry up to these ids, no other.
    ledger_transaction_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    ledger_entry_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    assets: str = Field(sa_column=Column(Text, nullable=False))  # JSON [[code, decimals], ...]
    totals: str = Field(sa_column=Column(Text, nullable=False))  # JSON, the root's sums
    root: str = Field(max_length=64)  # hex
    leaf_count: int  # a power of two, padding included
    block_height: int
    blocks: str = Field(sa_column=Column(Text, nullable=False))  # JSON [[hash hex, sums], ...]
    salt: str = Field(max_length=200)  # sealed
    users: int  # accounts with something owed (not published)
    trigger: str = Field(default="manual", max_length=16)  # schedule | manual | admin
    created_by: int | None = Field(default=None, foreign_key="users.id")


class LiabilityLeaf(SQLModel, table=True):
    __tablename__ = "liability_leaves"
    snapshot_id: int = Field(foreign_key="liability_snapshots.id", primary_key=True)
    position: int = Field(primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    part: int
    parts: int
    amounts: str = Field(sa_column=Column(Text, nullable=False))
    __table_args__ = (Index("ix_liability_leaves_user", "snapshot_id", "user_id"),)


class ReserveAttestation(SQLModel, table=True):
    """An address the operator controls, its balance, and a signed message proving control."""

    __tablename__ = "reserve_attestations"
    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="liability_snapshots.id")
    asset: str = Field(foreign_key="assets.code", max_length=10)
    address: str = Field(max_length=100)
    balance: int = Field(sa_column=Column(BigInteger, nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))
    signature: str = Field(max_length=200)
    scheme: str = Field(max_length=10)  # bip137 | eip191
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        UniqueConstraint("snapshot_id", "asset", "address", name="uq_reserve_address"),
        CheckConstraint("balance >= 0", name="ck_reserve_balance"),
    )
