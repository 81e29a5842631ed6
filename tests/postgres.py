"""A throwaway PostgreSQL database on the local server (127.0.0.1:5432), migrated with the
reference data, for tests that need PostgreSQL's own row locking and connection pool."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from bitchange import db
from bitchange.config import reload_settings
from bitchange.trading import service

SERVER = "postgresql://postgres@127.0.0.1:5432"


@contextmanager
def postgres_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the settings at a new database; drop it afterwards."""
    from bitchange.setup import prepare_database

    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"bitchange_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        monkeypatch.setenv("DATABASE_URL", f"{SERVER}/{name}")
        reload_settings()
        db.dispose()
        service.forget_books()
        prepare_database()
        yield f"{SERVER}/{name}"
    finally:
        service.forget_books()
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        monkeypatch.delenv("DATABASE_URL")
        reload_settings()
