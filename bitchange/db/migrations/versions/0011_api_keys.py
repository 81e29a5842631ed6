"""API keys, user data stream listenKeys, and the client's own order id (Trader API)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | tuple[str, ...] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("label", _text(length=64), nullable=False),
        sa.Column("kind", _text(length=8), nullable=False),
        sa.Column("api_key", _text(length=64), nullable=False),
        sa.Column("sealed_secret", _text(length=160), nullable=True),
        sa.Column("public_key", _text(length=64), nullable=True),
        sa.Column("scopes", _text(length=32), nullable=False),
        sa.Column("ip_allowlist", _text(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_ip", _text(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_reason", _text(length=100), nullable=True),
        sa.CheckConstraint("kind IN ('hmac', 'ed25519')", name="ck_api_key_kind"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("api_key"),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"], unique=False)
    op.create_table(
        "api_listen_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listen_key", _text(length=64), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("listen_key"),
    )
    op.create_index("ix_api_listen_keys_api_key_id", "api_listen_keys", ["api_key_id"],
                    unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_order_id", _text(length=36), nullable=True))
        batch_op.create_index("ix_orders_client_id", ["user_id", "client_order_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_client_id")
        batch_op.drop_column("client_order_id")
    op.drop_index("ix_api_listen_keys_api_key_id", table_name="api_listen_keys")
    op.drop_table("api_listen_keys")
    op.drop_index("ix_api_keys_user_id", table_name="api_keys")
    op.drop_table("api_keys")
