"""The outbox: one row per email, written in the same transaction as the change that caused it.

Written only by `bitchange.mail.outbox`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from bitchange.clock import now


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "mail_outbox"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    kind: str = Field(max_length=32)
    to_addr: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(sa_column=Column(Text, nullable=False))
    # pending -> sending -> sent | logged (no SMTP configured) ; pending -> failed (gave up);
    # sending -> failed (interrupted mid-send: never retried automatically, see outbox.py)
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=now)
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'logged', 'failed')",
                        name="ck_outbox_status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )
