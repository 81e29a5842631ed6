"""With PostgreSQL the same backup job uses pg_dump, and restore loads it with pg_restore."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import create_engine, text

from bitchange import db
from bitchange.config import reload_settings
from bitchange.ops.backup import run_backup
from bitchange.ops.restore import restore

ADMIN_DSN = "dbname=test user=postgres host=127.0.0.1 port=5432"


def _admin(sql: str) -> None:
    conn = psycopg2.connect(ADMIN_DSN)
    conn.autocommit = True
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


@pytest.fixture
def pg_databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    try:
        psycopg2.connect(ADMIN_DSN, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    names = [f"bc_ops_{uuid.uuid4().hex[:10]}", f"bc_ops_{uuid.uuid4().hex[:10]}"]
    for name in names:
        _admin(f"CREATE DATABASE {name}")
    urls = [f"postgresql+psycopg2://postgres@127.0.0.1:5432/{n}" for n in names]
    monkeypatch.setenv("DATABASE_URL", urls[0])
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    reload_settings()
    db.dispose()
    from bitchange.setup import prepare_database

    prepare_database()
    yield urls[0], urls[1]
    db.dispose()
    for name in names:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    monkeypatch.delenv("DATABASE_URL")
    reload_settings()


def test_postgres_backup_uses_pg_dump_and_restores(pg_databases, tmp_path, monkeypatch):
    _live_url, restore_url = pg_databases
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", "pg-backup-passphrase-0123456789abcdef")
    reload_settings()
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET sort_order = 42 WHERE symbol = 'ETH-BTC'"))
    result = run_backup()
    assert result.name.endswith(".pgdump.gz.enc")

    archive = tmp_path / "restored.dump"
    restored = restore(result.name, archive, into_url=restore_url)
    assert restored.kind == "postgresql" and archive.exists()
    engine = create_engine(restore_url)
    try:
        with engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT symbol, sort_order FROM markets")).all())
            runs = conn.execute(text("SELECT count(*) FROM backup_runs")).scalar_one()
    finally:
        engine.dispose()
    assert len(rows) == 3 and rows["ETH-BTC"] == 42
    assert runs == 1  # the dump is taken while its own run is recorded as running
