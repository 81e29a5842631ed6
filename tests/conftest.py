"""Shared fixtures: every test that touches the database gets a fresh, migrated SQLite file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bitchange import db
from bitchange.config import reload_settings


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
