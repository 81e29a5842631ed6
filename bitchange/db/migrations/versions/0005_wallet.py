"""wallet: deposit addresses, deposits, address book, withdrawals, transfers, controls

Merges the heads 0002 (accounts), 0003 (operations) and 0004 (trading).

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-11-30 06:22:18.804476
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | tuple[str, ...] | None = ("0002", "0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deposit_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asset", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("derivation_index", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("derivation_index >= 0", name="ck_deposit_address_index"),
        sa.ForeignKeyConstraint(
            ["asset"],
            ["assets.code"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("asset", "address", name="uq_deposit_address"),
        sa.UniqueConstraint("asset", "key_id", "derivation_index", name="uq_deposit_address_index"),
        sa.UniqueConstraint("user_id", "asset", "key_id", name="uq_deposit_address_user"),
    )
    op.create_table(
        "deposits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asset", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("txid", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("vout", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.Column("value_usdt", sa.BigInteger(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("reject_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("ledger_tx_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("credited_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending_approval', 'credited', 'rejected')", name="ck_deposit_status"
        ),
        sa.CheckConstraint(
            "amount > 0 AND vout >= 0 AND confirmations >= 0", name="ck_deposit_amounts"
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["asset"],
            ["assets.code"],
        ),
        sa.ForeignKeyConstraint(
            ["ledger_tx_id"],
            ["ledger_transactions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("asset", "txid", "vout", name="uq_deposit_output"),
    )
    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.create_index("ix_deposits_user", ["user_id", "id"], unique=False)

    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_user", sa.Integer(), nullable=False),
        sa.Column("to_user", sa.Integer(), nullable=False),
        sa.Column("asset", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("value_usdt", sa.BigInteger(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
        sa.Column("ledger_tx_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0 AND from_user <> to_user", name="ck_transfer"),
        sa.ForeignKeyConstraint(
            ["asset"],
            ["assets.code"],
        ),
        sa.ForeignKeyConstraint(
            ["from_user"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ledger_tx_id"],
            ["ledger_transactions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_user"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index("ix_transfers_from", ["from_user", "id"], unique=False)
        batch_op.create_index("ix_transfers_to", ["to_user", "id"], unique=False)

    op.create_table(
        "wallet_controls",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "withdrawal_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asset", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("removed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("token_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset"],
            ["assets.code"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sa.UniqueConstraint("user_id", "asset", "address", name="uq_withdrawal_address"),
    )
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("asset", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("value_usdt", sa.BigInteger(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("token_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("first_approver", sa.Integer(), nullable=True),
        sa.Column("second_approver", sa.Integer(), nullable=True),
        sa.Column("needs_two_approvals", sa.Boolean(), nullable=False),
        sa.Column("txid", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("hold_tx_id", sa.Integer(), nullable=True),
        sa.Column("final_tx_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('awaiting_email', 'pending_review', 'approved', 'sent', 'rejected', 'cancelled')",
            name="ck_withdrawal_status",
        ),
        sa.CheckConstraint(
            "amount > 0 AND fee >= 0 AND fee < amount", name="ck_withdrawal_amounts"
        ),
        sa.ForeignKeyConstraint(
            ["address_id"],
            ["withdrawal_addresses.id"],
        ),
        sa.ForeignKeyConstraint(
            ["asset"],
            ["assets.code"],
        ),
        sa.ForeignKeyConstraint(
            ["final_tx_id"],
            ["ledger_transactions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["first_approver"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["hold_tx_id"],
            ["ledger_transactions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["second_approver"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index("ix_withdrawals_status", ["status", "id"], unique=False)
        batch_op.create_index("ix_withdrawals_user", ["user_id", "id"], unique=False)

    op.create_table(
        "withdrawal_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("withdrawal_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["withdrawal_id"],
            ["withdrawals.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("withdrawal_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_withdrawal_events_withdrawal_id"), ["withdrawal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("withdrawal_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_withdrawal_events_withdrawal_id"))

    op.drop_table("withdrawal_events")
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index("ix_withdrawals_user")
        batch_op.drop_index("ix_withdrawals_status")

    op.drop_table("withdrawals")
    op.drop_table("withdrawal_addresses")
    op.drop_table("wallet_controls")
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_transfers_to")
        batch_op.drop_index("ix_transfers_from")

    op.drop_table("transfers")
    with op.batch_alter_table("deposits", schema=None) as batch_op:
        batch_op.drop_index("ix_deposits_user")

    op.drop_table("deposits")
    op.drop_table("deposit_addresses")
