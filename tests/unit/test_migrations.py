"""The migrations build exactly the schema the models declare (tables, columns, types,
indexes, constraints), so a model change without its migration fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bitchange import db
from bitchange.db.schema import metadata


def test_migrated_database_matches_the_models(database: str) -> None:
    with db.get_engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
