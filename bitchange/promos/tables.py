"""Promo code tables, written only by `bitchange.promos`. Amounts are BIGINT minor units."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bitchange.clock import now


def _big(default: int | None = 0, nullable: bool = False):  # type: ignore[no-untyped-def]
    return Field(default=default, sa_column=Column(BigInteger, nullable=nullable, default=default))


class PromoCode(SQLModel, table=True):
    __tablename__ = "promo_codes"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, sa_column_kwargs={"unique": True, "nullable": False})
    asset: str = Field(foreign_key="assets.code", max_length=10)
    amount: int = _big()
    total_limit: int  # redemptions in all
    per_user_limit: int = 1
    # Redemptions so far: only ever raised by a conditional UPDATE that keeps it <= total_limit.
    redeemed_count: int = 0
    valid_from: datetime
    valid_until: datetime
    # none | first_deposit_min (the user's first deposit was >= condition_amount of
    # condition_asset) | kyc_level_min (verification level >= condition_amount)
    condition: str = Field(default="none", max_length=20)
    condition_asset: str = Field(default="", max_length=10)
    condition_amount: int = _big()
    active: bool = True
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_promo_amount"),
        CheckConstraint("total_limit > 0 AND per_user_limit > 0", name="ck_promo_limits"),
        CheckConstraint("redeemed_count >= 0 AND redeemed_count <= total_limit",
                        name="ck_promo_redeemed"),
        CheckConstraint("condition IN ('none', 'first_deposit_min', 'kyc_level_min')",
                        name="ck_promo_condition"),
        CheckConstraint("valid_until > valid_from", name="ck_promo_window"),
    )


class PromoRedemption(SQLModel, table=True):
    """The `seq`-th redemption of a code by a user: (code, user, seq) is unique and seq never
    exceeds the code's per-user limit, so the per-user limit holds under concurrency."""

    __tablename__ = "promo_redemptions"
    id: int | None = Field(default=None, primary_key=True)
    code_id: int = Field(foreign_key="promo_codes.id")
    user_id: int = Field(foreign_key="users.id")
    seq: int
    asset: str = Field(foreign_key="assets.code", max_length=10)
    amount: int = _big()
    ledger_tx: int | None = Field(default=None, foreign_key="ledger_transactions.id")
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        UniqueConstraint("code_id", "user_id", "seq", name="uq_promo_redemption_seq"),
        CheckConstraint("seq >= 1", name="ck_promo_redemption_seq"),
        Index("ix_promo_redemptions_user", "user_id"),
    )
