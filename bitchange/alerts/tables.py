"""Tables owned by `bitchange.alerts` (written only by bitchange.alerts.service)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from bitchange.clock import now


class PriceAlert(SQLModel, table=True):
    """Fires once, when a trade of its market prints at or beyond its price."""

    __tablename__ = "price_alerts"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    symbol: str = Field(foreign_key="markets.symbol", max_length=21)
    direction: str = Field(max_length=5)  # above | below
    price: int = Field(sa_column=Column(BigInteger, nullable=False))  # quote minor units
    # The newest trade when the alert was set: only later trades can fire it.
    after_trade_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=now)
    fired_at: datetime | None = None
    fired_price: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    fired_trade_id: int | None = Field(default=None,
                                       sa_column=Column(BigInteger, nullable=True))
    __table_args__ = (
        CheckConstraint("direction IN ('above', 'below')", name="ck_price_alert_direction"),
        CheckConstraint("price > 0", name="ck_price_alert_price"),
        Index("ix_price_alerts_pending", "symbol", "fired_at"),
    )


class AlertCursor(SQLModel, table=True):
    """How far the alert job has read the trades table (the newest trade id it checked)."""

    __tablename__ = "alert_cursors"
    name: str = Field(primary_key=True, max_length=16)
    last_trade_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
