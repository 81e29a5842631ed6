"""The migrations build exactly the schema the models declare (tables, columns, types,
indexes, constraints), on SQLite and on PostgreSQL, so a model change without its migration
fails here."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bitchange import db
from bitchange.db.schema import metadata
from tests.postgres import postgres_database


def _differences() -> list:
    with db.get_engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_migrated_database_matches_the_models(database: str) -> None:
    assert _differences() == []


def test_migrated_postgresql_database_matches_the_models(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with postgres_database(monkeypatch):
        assert _differences() == []
