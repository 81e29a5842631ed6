"""Storage faults (a full disk, a read-only database) are told plainly, change nothing, show in
/healthz, and the process recovers by itself once storage is writable again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from bitchange import db
from bitchange.accounts.sessions import start_session
from bitchange.accounts.users import create_user
from bitchange.config import PROJECT_ROOT, reload_settings
from bitchange.db.models import User
from bitchange.jobs import lease
from bitchange.trading.tables import Order
from bitchange.web import api
from tests.storage_faults import SmallDisk, app_process, small_disk, unprivileged
from tests.trading.conftest import make_trader

SAME = {"sec-fetch-site": "same-origin"}


@pytest.fixture
def on_small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmallDisk]:
    """A migrated database and DATA_DIR on a small filesystem of their own."""
    from bitchange.setup import prepare_database

    with small_disk(tmp_path / "disk") as disk:
        monkeypatch.setenv("DATA_DIR", str(disk.root))
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{disk.root / 'bitchange.db'}")
        monkeypatch.setenv("HEALTH_MIN_FREE_MB", "1")
        reload_settings()
        db.dispose()
        prepare_database()
        yield disk
        db.dispose()
    monkeypatch.delenv("DATABASE_URL")
    reload_settings()


def _database_file() -> Path:
    return Path(make_url(db.current_url()).database)  # type: ignore[arg-type]


def _ticket(email: str = "trader@example.com") -> str:
    with db.write() as conn:
        user_id = create_user(conn, email, "correct horse battery", verified=True)
        return start_session(conn, user_id, ip="198.51.100.7", user_agent="test")


def _scheduler_alive() -> None:
    assert lease.try_acquire("web-1", timedelta(hours=1))


def test_healthz_is_degraded_on_a_full_disk_and_recovers(on_small_disk: SmallDisk) -> None:
    _scheduler_alive()
    client = TestClient(api)
    assert client.get("/healthz?strict=1").json()["status"] == "ok"

    on_small_disk.fill(_database_file())
    full = client.get("/healthz?strict=1")
    assert full.status_code == 503
    body = full.json()
    assert body["status"] == "degraded" and body["disk"]["low"] is True
    assert body["database"].startswith("cannot commit: ") and "full" in body["database"]
    assert client.get("/healthz").status_code == 200  # Docker would not restart for this

    on_small_disk.free()
    back = client.get("/healthz?strict=1")
    assert back.status_code == 200, back.json()
    assert back.json()["database"] == "ok" and back.json()["disk"]["low"] is False


def test_a_route_on_a_full_disk_says_so_and_changes_nothing(on_small_disk: SmallDisk) -> None:
    ticket = _ticket()
    client = TestClient(api, base_url="http://exchange.test", follow_redirects=False)
    on_small_disk.fill(_database_file())
    refused = client.get(f"/auth/session?ticket={ticket}", headers=SAME)
    assert refused.status_code == 503 and refused.text == db.STORAGE_UNAVAILABLE
    assert "set-cookie" not in refused.headers

    on_small_disk.free()
    accepted = client.get(f"/auth/session?ticket={ticket}", headers=SAME)  # still unused
    assert accepted.status_code == 303 and "set-cookie" in accepted.headers


def test_the_process_recovers_from_a_read_only_database_without_a_restart(database: str) -> None:
    if not database.startswith("sqlite"):
        pytest.skip("a database file's permissions")
    ticket = _ticket()
    trader = make_trader("bidder@example.com", {"USDT": 1_000 * 10**6})
    _scheduler_alive()
    path = _database_file()
    with app_process({"DATABASE_URL": database}) as app:
        assert json.loads(app.ask("get", "/healthz")["body"])["status"] == "ok"
        path.chmod(0o444)
        try:
            # Four requests at once: the pool opens connections while the file is read-only,
            # and so does the market's writer for its first order.
            app.ask("hold", "4")
            assert app.ask("order", str(trader.user_id)) == {"refused": db.STORAGE_UNAVAILABLE}
            refused = app.ask("get", f"/auth/session?ticket={ticket}")
            assert refused["status"] == 503 and refused["body"] == db.STORAGE_UNAVAILABLE
            assert not refused["cookie"]
            health = json.loads(app.ask("get", "/healthz")["body"])
            assert health["status"] == "degraded"
            assert health["database"].startswith("cannot commit: ")
        finally:
            path.chmod(0o644)

        for _ in range(4):  # each health check commits through two of the pooled connections
            health = json.loads(app.ask("get", "/healthz")["body"])
            assert health["database"] == "ok" and health["status"] == "ok", health
        accepted = app.ask("get", f"/auth/session?ticket={ticket}")
        assert accepted["status"] == 303 and accepted["cookie"]
        assert "placed" in app.ask("order", str(trader.user_id))
    with db.read() as conn:  # the refused order left nothing behind
        assert conn.scalar(select(func.count()).select_from(Order.__table__)) == 1


def test_the_cli_says_storage_is_unavailable_instead_of_a_traceback(database: str) -> None:
    if not database.startswith("sqlite"):
        pytest.skip("a database file's permissions")
    path = _database_file()
    path.chmod(0o444)
    try:
        done = subprocess.run(
            unprivileged(sys.executable, "-m", "bitchange", "create-admin",
                         "--email", "ops@example.org"),
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
            env={**os.environ, "BITCHANGE_ADMIN_PASSWORD": "correct horse battery staple"})
    finally:
        path.chmod(0o644)
    assert done.returncode == 75, done.stderr
    assert db.STORAGE_UNAVAILABLE in done.stderr and "Traceback" not in done.stderr
    with db.read() as conn:
        assert conn.scalar(select(User.__table__.c.id).where(
            User.__table__.c.email == "ops@example.org")) is None
