"""proof of liabilities: snapshots (Merkle sum tree), their leaves, reserve attestations

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | tuple[str, ...] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "liability_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("ledger_transaction_id", sa.BigInteger(), nullable=False),
        sa.Column("ledger_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("assets", sa.Text(), nullable=False),
        sa.Column("totals", sa.Text(), nullable=False),
        sa.Column("root", _text(length=64), nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("block_height", sa.Integer(), nullable=False),
        sa.Column("blocks", sa.Text(), nullable=False),
        sa.Column("salt", _text(length=200), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("trigger", _text(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_liability_snapshots_taken_at", "liability_snapshots", ["taken_at"],
                    unique=False)
    op.create_table(
        "liability_leaves",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("amounts", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["liability_snapshots.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("snapshot_id", "position"),
    )
    op.create_index("ix_liability_leaves_user", "liability_leaves", ["snapshot_id", "user_id"],
                    unique=False)
    op.create_table(
        "reserve_attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("asset", _text(length=10), nullable=False),
        sa.Column("address", _text(length=100), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("signature", _text(length=200), nullable=False),
        sa.Column("scheme", _text(length=10), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_reserve_balance"),
        sa.ForeignKeyConstraint(["asset"], ["assets.code"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["snapshot_id"], ["liability_snapshots.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("snapshot_id", "asset", "address", name="uq_reserve_address"),
    )


def downgrade() -> None:
    op.drop_table("reserve_attestations")
    op.drop_index("ix_liability_leaves_user", table_name="liability_leaves")
    op.drop_table("liability_leaves")
    op.drop_index("ix_liability_snapshots_taken_at", table_name="liability_snapshots")
    op.drop_table("liability_snapshots")
