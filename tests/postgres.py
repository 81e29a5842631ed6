"""A throwaway PostgreSQL database on the local server (127.0.0.1:5432), migrated with the
reference data, for tests that need PostgreSQL's own row locking and connection pool; and a
fault the database itself raises, to see a transaction run again."""

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
def empty_database(template: str = "") -> Iterator[str]:
    """A new database on the local server (a copy of `template` if given), dropped afterwards
    with whatever is still connected to it; yields its URL."""
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"bitchange_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"'
                                                         if template else "")))
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def postgres_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the settings at a new database; drop it afterwards."""
    from bitchange.setup import prepare_database

    with empty_database() as url:
        try:
            monkeypatch.setenv("DATABASE_URL", url)
            reload_settings()
            db.dispose()
            service.forget_books()
            prepare_database()
            yield url
        finally:
            service.forget_books()
            db.dispose()
            monkeypatch.delenv("DATABASE_URL")
            reload_settings()


def abort_once_as_deadlock(table: str) -> None:
    """The database aborts the first insert into `table` with PostgreSQL's deadlock error
    (a sequence counts the inserts: it is not rolled back with the transaction)."""
    with db.write() as conn:
        conn.execute(text("CREATE SEQUENCE injected_faults"))
        conn.execute(text("""
            CREATE FUNCTION abort_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('injected_faults') = 1 THEN
                    RAISE EXCEPTION 'deadlock detected (injected)' USING ERRCODE = '40P01';
                END IF;
                RETURN NEW;
            END $$"""))
        conn.execute(text(f"CREATE TRIGGER abort_once BEFORE INSERT ON {table} "
                          "FOR EACH ROW EXECUTE FUNCTION abort_once()"))


def inserts_tried() -> int:
    """How many inserts the trigger of `abort_once_as_deadlock` saw (the first was aborted)."""
    with db.read() as conn:
        return conn.scalar(text("SELECT last_value FROM injected_faults"))
