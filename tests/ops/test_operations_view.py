"""What the admin dashboard shows about backups and jobs, and the JSON log lines."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from bitchange import clock
from bitchange.config import reload_settings
from bitchange.jobs import runs
from bitchange.ops.backup import BackupError, run_backup
from bitchange.ops.health import operations_view
from bitchange.ops.logs import JsonFormatter


def test_dashboard_view_shows_failures_age_and_jobs(database, monkeypatch, tmp_path):
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))  # backups configured
    reload_settings()
    view = operations_view()
    assert view.backup_stale and view.backup_age == "never" and view.jobs == []

    run_backup()
    run_id = runs.record_start("reconcile", "host:1:abc")
    runs.record_finish(run_id, "failed", "FAIL balance_mismatch [BTC]")
    view = operations_view()
    assert not view.backup_stale and view.backup_last_error == ""
    assert view.jobs[0]["job"] == "reconcile" and view.jobs[0]["status"] == "failed"

    later = clock.now() + timedelta(hours=27)
    with clock.freeze(lambda: later):
        assert operations_view().backup_stale  # red past 26 hours
        assert operations_view().backup_age == "27.0 h ago"

    monkeypatch.setenv("S3_BUCKET", "b")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "y")
    reload_settings()
    with pytest.raises(BackupError):
        run_backup()
    view = operations_view()
    assert "127.0.0.1:9" in view.backup_last_error
    assert not view.backup_stale  # the previous good backup is still recent


def test_json_log_lines():
    record = logging.LogRecord("bitchange.ops", logging.WARNING, __file__, 1, "disk at %s%%",
                               (91,), None)
    record.run_id = 7
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "warning" and line["message"] == "disk at 91%"
    assert line["logger"] == "bitchange.ops" and line["run_id"] == 7
    assert line["time"].endswith("+00:00")
