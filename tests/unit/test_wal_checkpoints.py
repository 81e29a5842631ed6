"""SQLite's WAL under sustained writes: checkpoints run off the commit path, yet the log keeps
restarting from its beginning instead of growing for as long as writers never pause."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bitchange import db

PAGE = 4096


def test_wal_stays_bounded_while_writers_never_pause(database: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if not database.startswith("sqlite"):
        pytest.skip("SQLite's write-ahead log only")
    monkeypatch.setattr(db, "CHECKPOINT_EVERY_SECONDS", 0.02)
    monkeypatch.setattr(db, "WAL_TAIL_AFTER_FRAMES", 50)
    wal = Path(make_url(database).database + "-wal")  # type: ignore[operator]
    with db.write() as conn:
        conn.execute(text("CREATE TABLE wal_probe (id INTEGER PRIMARY KEY, payload BLOB)"))

    transactions = 3000
    for _ in range(transactions):  # back to back: the log is never idle
        with db.write() as conn:
            conn.execute(text("INSERT INTO wal_probe (payload) VALUES (:payload)"),
                         {"payload": b"x" * PAGE})

    # Each transaction appends at least two pages; without restarts the log holds them all.
    written = transactions * 2 * PAGE
    assert wal.stat().st_size < written / 4
    with db.read() as conn:
        assert conn.scalar(text("SELECT count(*) FROM wal_probe")) == transactions
