"""Shared fixtures: every test that touches the database gets a fresh, migrated SQLite file (or
PostgreSQL database, with BITCHANGE_TEST_DATABASE=postgresql)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bitchange import db
from bitchange.config import reload_settings
from bitchange.trading import service
from tests.mailbox import SmtpServer, running_smtp_server
from tests.postgres import empty_database

# BITCHANGE_TEST_DATABASE=postgresql: every `database` is a new PostgreSQL database on the
# local server instead of a SQLite file (scripts/test.sh runs the service tests both ways).
ON_POSTGRESQL = os.environ.get("BITCHANGE_TEST_DATABASE", "sqlite") == "postgresql"


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated with the reference data once per session: each test's
    database is a copy of it (CREATE DATABASE ... TEMPLATE), as if freshly prepared."""
    from bitchange.setup import prepare_database

    with empty_database() as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        reload_settings()
        db.dispose()
        prepare_database()
        db.dispose()  # a template may have no connections while it is copied
        patch.delenv("DATABASE_URL")
        reload_settings()
        yield make_url(url).database  # type: ignore[misc]


@contextmanager
def _test_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if ON_POSTGRESQL:
        with empty_database(template=request.getfixturevalue("postgres_template")) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated database with the reference assets, markets and system accounts."""
    from bitchange.setup import prepare_database

    with _test_database(request, tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("DATA_DIR", str(tmp_path))
        reload_settings()
        db.dispose()
        service.forget_books()  # the books of the previous test's database
        prepare_database()
        yield url
        service.forget_books()
        db.dispose()
        monkeypatch.delenv("DATABASE_URL")
        reload_settings()


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd); the settings point at it. `.messages` holds what arrived
    as `email.message.EmailMessage`; `.wait_for(address, subject)` polls with a deadline."""
    with running_smtp_server() as server:
        monkeypatch.setenv("SMTP_HOST", server.host)
        monkeypatch.setenv("SMTP_PORT", str(server.port))
        monkeypatch.setenv("SMTP_TLS", "none")
        monkeypatch.setenv("SMTP_USER", "")
        reload_settings()
        yield server
    reload_settings()
