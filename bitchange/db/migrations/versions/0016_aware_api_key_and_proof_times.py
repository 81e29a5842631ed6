"""api keys, listen keys and proof-of-liabilities times are timezone-aware on PostgreSQL

0011 and 0014 declared these columns as naive `DateTime`, while the models (and every other
migration) use `UTCDateTime`, `timestamp with time zone` on PostgreSQL. The values already
stored are UTC, so they are converted as such. SQLite has one datetime storage either way:
nothing changes there.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | tuple[str, ...] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = {
    "api_keys": {"created_at": False, "expires_at": True, "last_used_at": True,
                 "revoked_at": True},
    "api_listen_keys": {"created_at": False, "expires_at": False},
    "liability_snapshots": {"taken_at": False},
    "reserve_attestations": {"created_at": False},
}


def _retype(aware: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    new, old = ((sqlmodel.sql.sqltypes.UTCDateTime(), sa.DateTime()) if aware
                else (sa.DateTime(), sqlmodel.sql.sqltypes.UTCDateTime()))
    for table, columns in _COLUMNS.items():
        for column, nullable in columns.items():
            op.alter_column(table, column, type_=new, existing_type=old,
                            existing_nullable=nullable,
                            postgresql_using=f"{column} AT TIME ZONE 'UTC'")


def upgrade() -> None:
    _retype(aware=True)


def downgrade() -> None:
    _retype(aware=False)
