"""The scheduled job removes uploads that no KYC submission or support message took within an
hour (rows and files), and files left without a row by an upload that failed."""

from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import select

from bitchange import clock, db
from bitchange.config import get_settings, reload_settings
from bitchange.documents import storage
from bitchange.documents.tables import PrivateFile
from bitchange.jobs import scheduler, tasks
from bitchange.support import service as support
from tests.kyc.test_kyc import PNG
from tests.staking.conftest import make_user


def _path(stored: storage.StoredFile):  # type: ignore[no-untyped-def]
    return get_settings().private_dir / stored.purpose / stored.token


def test_unsent_uploads_older_than_an_hour_are_removed(database):
    alice = make_user("alice@example.com")
    earlier = clock.now() - timedelta(hours=1, minutes=1)
    with clock.freeze(lambda: earlier):
        forgotten = storage.upload(alice, "kyc", PNG)
        sent = storage.upload(alice, "support", PNG)
    with db.write() as conn:
        support.open_ticket(conn, alice, subject="Card", category="other", body="See the file",
                            attachment_id=sent.id)
    recent = storage.upload(alice, "kyc", PNG)
    folder = get_settings().private_dir / "kyc"
    stray, writing = folder / "left-by-a-failed-upload", folder / ".being-written.part"
    stray.write_bytes(PNG)
    writing.write_bytes(PNG)
    os.utime(stray, (earlier.timestamp(), earlier.timestamp()))

    assert tasks.stale_uploads() == "1 unsent uploads and 1 stray files removed"
    with db.read() as conn:
        left = set(conn.scalars(select(PrivateFile.__table__.c.id)))
    assert left == {sent.id, recent.id}
    assert not _path(forgotten).exists() and _path(sent).exists() and _path(recent).exists()
    assert not stray.exists() and writing.exists()
    assert tasks.stale_uploads() == "0 unsent uploads and 0 stray files removed"


def test_the_job_is_scheduled():
    jobs = {job.name: job for job in scheduler.default_jobs(reload_settings())}
    assert "stale_uploads" in jobs and jobs["stale_uploads"].func is tasks.stale_uploads
