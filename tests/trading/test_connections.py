"""Refused requests give their database connection back: unknown symbols sent to the trading
service, 50 of them (more than PostgreSQL's pool of 10 + 10), and then the exchange still
trades. Checked on the pool's count after each, so a leak fails at once instead of waiting 30 s
for a connection."""

from __future__ import annotations

import pytest

from bitchange import db
from bitchange.trading import service
from bitchange.trading.service import OrderRequest, TradingError
from tests.postgres import postgres_database
from tests.trading.conftest import BTC, USDT, make_trader, price

ATTEMPTS = 50


@pytest.fixture
def pg(monkeypatch):  # type: ignore[no-untyped-def]
    with postgres_database(monkeypatch) as url:
        yield url


def test_unknown_symbols_do_not_keep_connections(pg):
    alice = make_trader("alice@example.com", {"USDT": 1_000_000 * USDT})
    order = OrderRequest("BUY", "limit", price("60000"), BTC // 1000)
    pool = db.get_engine().pool
    in_use = pool.checkedout()
    for n in range(ATTEMPTS):
        symbol = f"NOPE{n}-USDT"
        with pytest.raises(TradingError, match=f"Unknown market {symbol}"):
            service.place_order(alice.user_id, symbol, order)
        with pytest.raises(TradingError, match=f"Unknown market {symbol}"):
            service.set_market_status(symbol, "halted")
        with pytest.raises(TradingError, match=f"Unknown market {symbol}"):
            service.depth(symbol)
        assert pool.checkedout() == in_use, f"after {n + 1} unknown symbols"

    placed = service.place_order(alice.user_id, "BTC-USDT", order)
    assert placed.status == "open"
    assert service.depth("BTC-USDT")[0] == [(price("60000"), BTC // 1000)]
