"""The admin markets card's rows: status, rules shown plain (the edit form sends them back)
and the open orders and pending stops per market, built from a real database without Reflex."""

from __future__ import annotations

from bitchange import db
from bitchange.trading import admin_views, service
from bitchange.trading.markets import get_market
from bitchange.trading.service import OrderRequest
from tests.trading.conftest import price, qty

SYMBOL = "BTC-USDT"


def test_market_rows_count_open_orders_and_show_rules_plainly(alice, bob):
    service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("100"),
                                                          qty("1")))
    service.place_order(bob.user_id, SYMBOL, OrderRequest("BUY", "limit", price("99"),
                                                          qty("1")))
    service.place_order(bob.user_id, SYMBOL, OrderRequest(  # a pending stop (no trade yet)
        "SELL", "limit", price("90"), qty("1"), stop_type="STOP_LOSS", stop_price=price("95")))
    service.update_market_rules(SYMBOL, tick_size=price("0.01"), lot_size=qty("0.0001"),
                                min_notional=price("12000"), maker_fee_bps=7,
                                taker_fee_bps=12)
    with db.read() as conn:
        rows = {r["symbol"]: r for r in admin_views.market_rows(conn)}
        market = get_market(conn, SYMBOL)
    assert market is not None
    assert rows[SYMBOL] == {"symbol": SYMBOL, "status": market.status, "tick": "0.01",
                            "lot": "0.0001", "min_notional": "12000.00", "maker": "7",
                            "taker": "12", "open_orders": "2", "pending_orders": "1",
                            "base": "BTC", "quote": "USDT"}
    assert all(r["open_orders"] == "0" for s, r in rows.items() if s != SYMBOL)
