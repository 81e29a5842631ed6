"""The private files' index, written only by `bitchange.documents`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from bitchange.clock import now


class PrivateFile(SQLModel, table=True):
    """One stored file. `token` is its name on disk and in its URL: 256 random bits."""

    __tablename__ = "private_files"
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})
    purpose: str = Field(max_length=16)  # kyc | support
    owner_id: int = Field(foreign_key="users.id", index=True)  # who uploaded it
    content_type: str = Field(max_length=32)
    size: int
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        CheckConstraint("purpose IN ('kyc', 'support')", name="ck_private_file_purpose"),
        CheckConstraint("size > 0", name="ck_private_file_size"),
    )
