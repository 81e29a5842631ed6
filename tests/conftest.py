"""Shared fixtures: every test that touches the database gets a fresh, migrated SQLite file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bitchange import db
from bitchange.config import reload_settings
from tests.mailbox import SmtpServer, running_smtp_server


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated database with the reference assets, markets and system accounts."""
    from bitchange.setup import prepare_database

    url = os.environ.get("BITCHANGE_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    reload_settings()
    db.dispose()
    prepare_database()
    yield url
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
