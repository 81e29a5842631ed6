from __future__ import annotations

import pytest

from bitchange.trading import service


@pytest.fixture
def market(database):  # type: ignore[no-untyped-def]
    service.forget_books()
    yield "BTC-USDT"
    service.forget_books()
