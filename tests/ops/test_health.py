"""/healthz: database, scheduler liveness and the age of the last good backup."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from bitchange import clock
from bitchange.config import reload_settings
from bitchange.jobs import lease
from bitchange.ops.backup import run_backup
from bitchange.ops.health import operations_view
from bitchange.web import api


def test_healthz_reports_scheduler_and_backup_age(database, monkeypatch, tmp_path):
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))  # backups configured
    reload_settings()
    client = TestClient(api)
    fresh = client.get("/healthz")
    assert fresh.status_code == 200  # the database is fine: Docker keeps the container
    body = fresh.json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["backup"]["stale"] is True and body["backup"]["last_success"] is None
    assert body["scheduler"]["alive"] is False
    assert client.get("/healthz?strict=1").status_code == 503  # monitors see it

    run_backup()
    assert lease.try_acquire("web-1", timedelta(seconds=60))
    body = client.get("/healthz?strict=1").json()
    assert body["status"] == "ok", body
    assert body["scheduler"]["alive"] is True
    assert body["backup"]["age_hours"] < 0.1 and body["backup"]["stale"] is False

    later = clock.now() + timedelta(hours=27)
    with clock.freeze(lambda: later):
        assert lease.try_acquire("web-1", timedelta(seconds=60))
        late = client.get("/healthz?strict=1")
    assert late.status_code == 503
    assert late.json()["backup"]["stale"] is True and late.json()["backup"]["age_hours"] > 26


def test_backups_not_configured_in_development_but_overdue_in_production(database,
                                                                         monkeypatch):
    assert lease.try_acquire("web-1", timedelta(hours=1))
    client = TestClient(api)
    body = client.get("/healthz?strict=1").json()
    assert body["status"] == "ok", body  # a fresh development install is healthy
    assert body["backup"]["configured"] is False and body["backup"]["stale"] is False
    view = operations_view()
    assert not view.backup_configured and not view.backup_stale
    assert view.backup_last_ok.startswith("backups not configured")

    monkeypatch.setenv("BITCHANGE_ENV", "production")
    reload_settings()
    overdue = client.get("/healthz?strict=1")
    assert overdue.status_code == 503 and overdue.json()["status"] == "degraded"
    assert overdue.json()["backup"]["stale"] is True
    view = operations_view()
    assert view.backup_configured and view.backup_stale  # red on the dashboard
    assert view.backup_last_ok == "no successful backup yet"


def test_healthz_is_503_without_a_database(database, monkeypatch, tmp_path):
    from bitchange import db

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://nobody@127.0.0.1:1/none")
    reload_settings()
    db.dispose()
    response = TestClient(api).get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "error"
