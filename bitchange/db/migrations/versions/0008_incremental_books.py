"""orders carry the market seq of their last change in the book, markets the seq of their last
rules change, so a process with a stale book catches up on what changed instead of reloading

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | tuple[str, ...] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("book_seq", sa.BigInteger(), nullable=False,
                                      server_default="0"))
        batch_op.create_index("ix_orders_book_seq", ["symbol", "book_seq"], unique=False)
    with op.batch_alter_table("market_sequences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rules_seq", sa.BigInteger(), nullable=False,
                                      server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("market_sequences", schema=None) as batch_op:
        batch_op.drop_column("rules_seq")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_book_seq")
        batch_op.drop_column("book_seq")
