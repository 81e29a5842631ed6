"""an OCO list keeps the client id it was placed with (Binance's listClientOrderId)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | tuple[str, ...] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Not in batch mode: SQLite adds a nullable column, and (3.35+) drops an unindexed one, in
# place, where a batch would copy `orders`, which the trades' foreign keys refer to.
def upgrade() -> None:
    op.add_column("orders", sa.Column("list_client_order_id",
                                      sqlmodel.sql.sqltypes.AutoString(length=36),
                                      nullable=True))
    op.create_index("ix_orders_list_client_id", "orders", ["user_id", "list_client_order_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_orders_list_client_id", table_name="orders")
    op.drop_column("orders", "list_client_order_id")
