"""KYC tables, written only by `bitchange.kyc`. They hold personal data: never log their rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bitchange.clock import now


class KycSubmission(SQLModel, table=True):
    """A request to reach `level` (1 identity, 2 address), with the details typed in."""

    __tablename__ = "kyc_submissions"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    level: int
    status: str = Field(default="pending", max_length=16)  # pending | approved | rejected
    full_name: str = Field(default="", max_length=100)
    date_of_birth: str = Field(default="", max_length=10)  # YYYY-MM-DD
    country: str = Field(default="", max_length=60)
    document_number: str = Field(default="", max_length=40)
    address_line: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=80)
    postal_code: str = Field(default="", max_length=20)
    reason: str = Field(default="", max_length=500)  # why it was rejected, shown to the user
    reviewed_by: int | None = Field(default=None, foreign_key="users.id")
    reviewed_at: datetime | None = None
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        CheckConstraint("level IN (1, 2)", name="ck_kyc_level"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_kyc_status"),
        # At most one submission waiting for review per user.
        Index("uq_kyc_one_pending", "user_id", unique=True,
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
    )


class KycDocument(SQLModel, table=True):
    """A file of a submission (stored by `bitchange.documents`)."""

    __tablename__ = "kyc_documents"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="kyc_submissions.id", index=True)
    kind: str = Field(max_length=16)  # id_front | id_back | selfie | address_proof
    file_id: int = Field(foreign_key="private_files.id", sa_column_kwargs={"unique": True})
    __table_args__ = (UniqueConstraint("submission_id", "kind", name="uq_kyc_document_kind"),)


class KycEvent(SQLModel, table=True):
    """Every step of a submission (submitted, approved, rejected), in order: a user's open
    verification page follows its ids to show a decision live (`bitchange.state.live`)."""

    __tablename__ = "kyc_events"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="kyc_submissions.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    action: str = Field(max_length=16)  # submitted | approved | rejected
    created_at: datetime = Field(default_factory=now)
