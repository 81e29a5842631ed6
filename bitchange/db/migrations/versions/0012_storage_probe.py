"""storage probe: the row /healthz commits to prove the database can commit

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | tuple[str, ...] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    probes = op.create_table(
        "storage_probes",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("written_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # Present from the start, so that health checks of several processes only ever update it.
    op.bulk_insert(probes, [{"name": "healthz", "written_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("storage_probes")
