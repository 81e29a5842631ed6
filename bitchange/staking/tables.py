"""Staking tables, written only by `bitchange.staking`. Amounts are BIGINT minor units."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bitchange.clock import now


def _big(default: int | None = 0, nullable: bool = False):  # type: ignore[no-untyped-def]
    return Field(default=default, sa_column=Column(BigInteger, nullable=nullable, default=default))


class StakingProduct(SQLModel, table=True):
    __tablename__ = "staking_products"
    id: int | None = Field(default=None, primary_key=True)
    asset: str = Field(foreign_key="assets.code", max_length=10)
    name: str = Field(max_length=60)
    apr_bps: int  # annual rate in basis points: 525 = 5.25 %
    lock_days: int = 0  # 0 = flexible
    min_amount: int = _big()
    max_per_user: int = _big()
    capacity: int = _big()
    staked_total: int = _big()  # active principal; a conditional UPDATE keeps it <= capacity
    status: str = Field(default="active", max_length=10)  # active | closed
    # ok | no_funds: whether the last accrual could pay every position of this product
    rewards_status: str = Field(default="ok", max_length=10)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        CheckConstraint("status IN ('active', 'closed')", name="ck_staking_product_status"),
        CheckConstraint("apr_bps >= 0 AND apr_bps <= 100000", name="ck_staking_apr"),
        CheckConstraint("lock_days >= 0", name="ck_staking_lock"),
        CheckConstraint("min_amount > 0 AND max_per_user >= min_amount AND capacity > 0",
                        name="ck_staking_amounts"),
        CheckConstraint("staked_total >= 0 AND staked_total <= capacity",
                        name="ck_staking_capacity"),
    )


class StakingPosition(SQLModel, table=True):
    __tablename__ = "staking_positions"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    product_id: int = Field(foreign_key="staking_products.id")
    asset: str = Field(foreign_key="assets.code", max_length=10)
    amount: int = _big()
    status: str = Field(default="active", max_length=10)  # active | redeemed
    started_at: datetime = Field(default_factory=now)
    unlocks_at: datetime | None = None  # None: flexible
    redeemed_at: datetime | None = None
    rewards_paid: int = _big()
    stake_tx: int | None = Field(default=None, foreign_key="ledger_transactions.id")
    redeem_tx: int | None = Field(default=None, foreign_key="ledger_transactions.id")
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_staking_position_amount"),
        CheckConstraint("status IN ('active', 'redeemed')", name="ck_staking_position_status"),
        Index("ix_staking_positions_user", "user_id", "status"),
        Index("ix_staking_positions_product", "product_id", "status"),
    )


class StakingAccrual(SQLModel, table=True):
    """One position's reward for one UTC day: at most one row per (position, day)."""

    __tablename__ = "staking_accruals"
    id: int | None = Field(default=None, primary_key=True)
    position_id: int = Field(foreign_key="staking_positions.id")
    day: date
    amount: int = _big()  # 0 when the floor of a tiny position's daily reward is 0
    ledger_tx: int | None = Field(default=None, foreign_key="ledger_transactions.id")
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        UniqueConstraint("position_id", "day", name="uq_staking_accrual_day"),
        CheckConstraint("amount >= 0", name="ck_staking_accrual_amount"),
    )
