"""kyc_events: every step of a verification submission, whose ids the live watcher follows

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | tuple[str, ...] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kyc_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["kyc_submissions.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kyc_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kyc_events_submission_id"), ["submission_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kyc_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kyc_events_submission_id"))
    op.drop_table("kyc_events")
