"""conditional orders: stop and trailing fields, OCO lists, the 'pending' status; markets keep
their last trade price (what triggers compare with)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | tuple[str, ...] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STATUSES = "status IN ('open', 'partially_filled', 'filled', 'cancelled', 'expired')"
_NEW_STATUSES = ("status IN ('pending', 'open', 'partially_filled', 'filled', 'cancelled', "
                 "'expired')")


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stop_type", sqlmodel.sql.sqltypes.AutoString(length=11),
                                      nullable=True))
        batch_op.add_column(sa.Column("stop_price", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("trailing_delta", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("trail_extreme", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("order_list_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("triggered_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column("expire_reason",
                                      sqlmodel.sql.sqltypes.AutoString(length=24),
                                      nullable=True))
        batch_op.create_index("ix_orders_list", ["order_list_id"], unique=False)
        batch_op.drop_constraint("ck_order_status", type_="check")
        batch_op.create_check_constraint("ck_order_status", _NEW_STATUSES)
    with op.batch_alter_table("market_sequences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_price", sa.BigInteger(), nullable=True))
    # The last trade price of every market that has traded.
    op.execute("UPDATE market_sequences SET last_price = (SELECT t.price FROM trades t "
               "WHERE t.symbol = market_sequences.symbol ORDER BY t.id DESC LIMIT 1)")


def downgrade() -> None:
    with op.batch_alter_table("market_sequences", schema=None) as batch_op:
        batch_op.drop_column("last_price")
    op.execute("UPDATE orders SET status = 'cancelled' WHERE status = 'pending'")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint("ck_order_status", type_="check")
        batch_op.create_check_constraint("ck_order_status", _OLD_STATUSES)
        batch_op.drop_index("ix_orders_list")
        for column in ("expire_reason", "triggered_at", "order_list_id", "trail_extreme",
                       "trailing_delta", "stop_price", "stop_type"):
            batch_op.drop_column(column)
