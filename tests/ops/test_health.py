"""/healthz: database, scheduler liveness and the age of the last good backup."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from bitchange import clock
from bitchange.jobs import lease
from bitchange.ops.backup import run_backup
from bitchange.web import api


def test_healthz_reports_scheduler_and_backup_age(database):
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


def test_healthz_is_503_without_a_database(database, monkeypatch, tmp_path):
    from bitchange import db
    from bitchange.config import reload_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://nobody@127.0.0.1:1/none")
    reload_settings()
    db.dispose()
    response = TestClient(api).get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "error"
