"""Support tables, written only by `bitchange.support`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Text
from sqlmodel import Column, Field, SQLModel

from bitchange.clock import now


class SupportTicket(SQLModel, table=True):
    __tablename__ = "support_tickets"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    subject: str = Field(max_length=120)
    category: str = Field(max_length=20)
    status: str = Field(default="open", max_length=20)  # open | waiting_on_user | resolved | closed
    priority: str = Field(default="normal", max_length=10)  # low | normal | high | urgent
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
    __table_args__ = (
        CheckConstraint("status IN ('open', 'waiting_on_user', 'resolved', 'closed')",
                        name="ck_ticket_status"),
        CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')",
                        name="ck_ticket_priority"),
        Index("ix_support_tickets_user", "user_id"),
        Index("ix_support_tickets_queue", "status", "created_at"),
    )


class SupportMessage(SQLModel, table=True):
    """A message on a ticket: from the user, a staff reply, or a staff-only internal note."""

    __tablename__ = "support_messages"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="support_tickets.id", index=True)
    author_id: int = Field(foreign_key="users.id")
    kind: str = Field(max_length=10)  # user | staff | note
    body: str = Field(sa_column=Column(Text, nullable=False))
    attachment_id: int | None = Field(default=None, foreign_key="private_files.id")
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        CheckConstraint("kind IN ('user', 'staff', 'note')", name="ck_message_kind"),
    )
