"""Backups against a live, written-to SQLite database, uploaded to a real HTTP S3 endpoint (moto
server) and restored from it."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bitchange import clock, db
from bitchange.config import get_settings, reload_settings
from bitchange.ops.backup import BackupError, run_backup
from bitchange.ops.restore import RestoreError, list_backups, restore
from bitchange.ops.retention import documents_name_for
from bitchange.ops.tables import BackupRun

KEY = "test-backup-passphrase-0123456789abcdef"


def _rows(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM probe ORDER BY id")]
    finally:
        conn.close()


class Writer(threading.Thread):
    """Keeps committing rows (one per transaction) until stopped; remembers what committed."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.committed: list[int] = []
        self.stop = threading.Event()
        self.warm = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with db.write() as conn:
                    new_id = conn.execute(text(
                        "INSERT INTO probe (payload) VALUES (:p) RETURNING id"),
                        {"p": "x" * 200}).scalar_one()
                self.committed.append(new_id)
                if len(self.committed) >= 200:
                    self.warm.set()
        except BaseException as exc:  # surfaced by the test
            self.error = exc
            self.warm.set()


def test_backup_while_writing_restores_every_committed_row(database, s3, monkeypatch, tmp_path):
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", KEY)
    reload_settings()
    with db.write() as conn:
        conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)"))

    writer = Writer()
    writer.start()
    assert writer.warm.wait(30)
    committed_before = list(writer.committed)
    result = run_backup("manual")
    committed_after_count = len(writer.committed)
    writer.stop.set()
    writer.join(30)
    assert writer.error is None
    assert committed_after_count > len(committed_before)  # the app kept writing meanwhile

    # The run is recorded, the copy is kept locally and uploaded with its checksum.
    with db.read() as conn:
        run = conn.execute(select(BackupRun.__table__)).one()
    assert (run.status, run.name, run.sha256, run.size_bytes) == (
        "ok", result.name, result.sha256, result.size)
    assert run.encrypted and result.name.endswith(".sqlite.gz.enc")
    assert run.remote_key == "nightly/" + result.name
    assert run.documents_name == result.documents_name
    assert s3.keys() == sorted([run.remote_key, "nightly/" + run.documents_name])
    head = s3.client.head_object(Bucket=s3.bucket, Key=run.remote_key)
    assert head["Metadata"]["sha256"] == result.sha256
    assert (get_settings().resolved_backup_dir / result.name).exists()
    assert b"probe" not in result.path.read_bytes()  # encrypted at rest

    # Restore from the off-site copy only.
    result.path.unlink()
    entries = list_backups()
    assert [(e.name, e.local, e.remote, e.documents) for e in entries] == [
        (result.name, False, True, True)]
    target = tmp_path / "restored" / "bitchange.db"
    restored = restore(result.name, target)
    assert restored.source == "remote"

    rows = _rows(target)
    assert set(committed_before) <= set(rows)  # every row committed before the backup
    assert set(rows) <= set(writer.committed)  # and nothing that never committed
    assert rows == list(range(rows[0], rows[0] + len(rows)))  # one consistent snapshot
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("SELECT count(*) FROM markets").fetchone()[0] == 3
    conn.close()


def test_restore_refuses_to_overwrite_the_live_database_without_force(database, tmp_path):
    result = run_backup()
    live = Path(database.removeprefix("sqlite:///"))
    with pytest.raises(RestoreError, match="LIVE database"):
        restore(result.name, live)
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET status = 'halted'"))
    restore(result.name, live, force=True)
    # The app's open (pooled) connections see the restored content.
    with db.read() as conn:
        assert set(conn.execute(text("SELECT status FROM markets")).scalars()) == {"active"}


def test_restore_refuses_a_checksum_mismatch(database, s3, tmp_path):
    result = run_backup()
    result.path.unlink()  # force the remote copy
    key = s3.prefix + result.name
    head = s3.client.head_object(Bucket=s3.bucket, Key=key)
    tampered = bytearray(s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read())
    tampered[len(tampered) // 2] ^= 0xFF
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=bytes(tampered),
                         Metadata=head["Metadata"])
    target = tmp_path / "out.db"
    with pytest.raises(RestoreError, match="checksum mismatch"):
        restore(result.name, target)
    assert not target.exists()


def test_restore_refuses_a_tampered_local_copy_and_a_wrong_key(database, monkeypatch, tmp_path):
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", KEY)
    reload_settings()
    result = run_backup()
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", KEY + "-wrong")
    reload_settings()
    with pytest.raises(RestoreError, match="decryption failed"):
        restore(result.name, tmp_path / "a.db")
    data = bytearray(result.path.read_bytes())
    data[-1] ^= 0x01
    result.path.write_bytes(bytes(data))
    with pytest.raises(RestoreError, match="checksum mismatch"):
        restore(result.name, tmp_path / "b.db")
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "b.db").exists()


def test_retention_prunes_locally_and_remotely(database, s3):
    start = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)  # a Thursday
    names = []
    for day in range(40):
        with clock.freeze(lambda d=day: start + timedelta(days=d)):
            names.append(run_backup("schedule").name)
    # 7 daily (Feb 3..9) plus the newest of 4 ISO weeks: Feb 9 (Mon, week 7), Feb 8 (Sun,
    # week 6), Feb 1 (Sun, week 5), Jan 25 (Sun, week 4).
    kept = {names[i] for i in range(33, 40)} | {names[31], names[24]}
    # Each database backup with the documents archive of its run: pruned and kept in pairs.
    expected = sorted(kept | {documents_name_for(n) for n in kept})
    assert len(expected) == 18
    folder = get_settings().resolved_backup_dir
    local = sorted(p.name for p in folder.iterdir() if not p.name.endswith(".sha256"))
    assert local == expected
    assert sorted(p.name for p in folder.glob("*.sha256")) == [n + ".sha256" for n in expected]
    assert s3.keys() == ["nightly/" + n for n in expected]


def test_a_failed_backup_emails_the_admins_and_is_recorded(database, smtp_server, monkeypatch):
    from bitchange.accounts.users import create_user
    from bitchange.mail.outbox import deliver_due

    with db.write() as conn:
        create_user(conn, "ops-admin@example.org", "a-long-admin-password-1", is_admin=True,
                    verified=True)
        create_user(conn, "trader@example.org", "a-long-trader-password-1", verified=True)
    monkeypatch.setenv("S3_BUCKET", "no-such-bucket")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "y")
    reload_settings()
    with pytest.raises(BackupError):
        run_backup("schedule")
    with db.read() as conn:
        run = conn.execute(select(BackupRun.__table__)).one()
    assert run.status == "failed" and "127.0.0.1:9" in run.error
    deliver_due()
    message = smtp_server.wait_for("ops-admin@example.org", "backup FAILED")
    assert "127.0.0.1:9" in message.get_body(preferencelist=("plain",)).get_content()
    time.sleep(0)  # nothing else to wait for: delivery above is synchronous
    assert smtp_server.to("trader@example.org") == []
