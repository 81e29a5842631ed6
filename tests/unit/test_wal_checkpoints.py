"""SQLite's WAL under sustained writes: checkpoints run off the commit path, yet the log keeps
restarting from its beginning, and its file stays under `SQLITE_WAL_LIMIT_BYTES`, for as long
as writers never pause, in one process or in several."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bitchange import db
from bitchange.config import PROJECT_ROOT, reload_settings

PAGE = 4096
LIMIT = 2 * 2**20


def _wal(database: str) -> Path:
    return Path(make_url(database).database + "-wal")  # type: ignore[operator]


@pytest.fixture
def probe(database: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test database with a table to fill and a WAL bound of `LIMIT`; its WAL file."""
    if not database.startswith("sqlite"):
        pytest.skip("SQLite's write-ahead log only")
    monkeypatch.setenv("SQLITE_WAL_LIMIT_BYTES", str(LIMIT))
    reload_settings()
    db.dispose()
    with db.write() as conn:
        conn.execute(text("CREATE TABLE wal_probe (id INTEGER PRIMARY KEY, payload BLOB)"))
    return _wal(database)


def test_wal_stays_bounded_while_writers_never_pause(probe: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "CHECKPOINT_EVERY_SECONDS", 0.02)
    transactions = 3000
    largest = 0
    for _ in range(transactions):  # back to back: the log is never idle
        with db.write() as conn:
            conn.execute(text("INSERT INTO wal_probe (payload) VALUES (:payload)"),
                         {"payload": b"x" * PAGE})
        largest = max(largest, probe.stat().st_size)

    # Each transaction appends at least two pages: 24 MB without restarts.
    assert largest < LIMIT and probe.stat().st_size < LIMIT
    with db.read() as conn:
        assert conn.scalar(text("SELECT count(*) FROM wal_probe")) == transactions


def test_wal_stays_under_its_bound_with_four_writer_processes(probe: Path,
                                                              database: str) -> None:
    writers, transactions = 4, 600
    env = {**os.environ, "DATABASE_URL": database, "SQLITE_WAL_LIMIT_BYTES": str(LIMIT)}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.unit.wal_writer_proc",
                               str(transactions)], cwd=PROJECT_ROOT, env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
             for _ in range(writers)]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready"  # type: ignore[union-attr]
        for proc in procs:  # all at once: four processes queue on the write lock
            proc.stdin.write("go\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        largest = [int(proc.stdout.readline()) for proc in procs]  # type: ignore[union-attr]
        assert [proc.wait(timeout=120) for proc in procs] == [0] * writers
    finally:
        for proc in procs:
            proc.kill()

    # 2,400 transactions of four pages or more each: ~40 MB of frames without restarts.
    assert max(largest) < LIMIT, largest
    assert probe.stat().st_size < LIMIT
    with db.read() as conn:
        assert conn.scalar(text("SELECT count(*) FROM wal_probe")) == writers * transactions
