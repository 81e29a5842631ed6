"""Fixtures of the stream tests (imported by them, so tests/api/conftest.py stays the REST's)."""

from __future__ import annotations

import pytest

from bitchange.trading import service


@pytest.fixture(name="market")
def market_fixture(database):  # type: ignore[no-untyped-def]
    """BTC-USDT on a fresh database, with no book left in memory from another test."""
    service.forget_books()
    yield "BTC-USDT"
    service.forget_books()
