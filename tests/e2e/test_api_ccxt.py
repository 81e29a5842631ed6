"""An unmodified ccxt 4.5 `binance` client, configured only as issue 13 says, drives the real
app (started by the e2e fixtures) with the demo traders' API keys: every call's result is
checked against the database, and the five error mappings are provoked."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest
from sqlalchemy import create_engine, text

from bitchange.demo import DEMO_API_KEYS

pytestmark = pytest.mark.e2e


def client(app, key: str, secret: str) -> ccxt.binance:  # type: ignore[no-untyped-def]
    host = app.url
    return ccxt.binance({
        "apiKey": key, "secret": secret,
        "urls": {"api": {"public": host + "/api/v3", "private": host + "/api/v3",
                         "v1": host + "/api/v1", "sapi": host + "/sapi/v1"}},
        "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                    "fetchMargins": False},
    })


def query(app, sql: str, **params):  # type: ignore[no-untyped-def]
    engine = create_engine(app.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).mappings().all()
    finally:
        engine.dispose()


def order_row(app, order_id: str):  # type: ignore[no-untyped-def]
    return query(app, "SELECT * FROM orders WHERE id = :id", id=int(order_id))[0]


def test_ccxt_binance_trades_on_bitchange(app) -> None:  # type: ignore[no-untyped-def]
    alice = client(app, *DEMO_API_KEYS["alice@demo.bitchange.local"])
    bob = client(app, *DEMO_API_KEYS["bob@demo.bitchange.local"])
    markets = alice.load_markets()
    btc = markets["BTC/USDT"]
    assert btc["active"] and btc["id"] == "BTCUSDT"
    assert btc["limits"]["cost"]["min"] == 10.0
    bob.load_markets()

    # bob quotes; alice takes part of it by quantity, then by cost.
    ask = bob.create_order("BTC/USDT", "limit", "sell", 0.01, 30000)
    row = order_row(app, ask["id"])
    assert (row["side"], row["price"], row["quantity"], row["status"]) == (
        "SELL", 30000 * 10**6, 10**6, "open")
    assert ask["clientOrderId"] == row["client_order_id"] and ask["clientOrderId"].startswith("x-")
    book = alice.fetch_order_book("BTC/USDT")
    assert book["asks"][0][:2] == [30000.0, 0.01]
    bought = alice.create_order("BTC/USDT", "market", "buy", 0.004)
    row = order_row(app, bought["id"])
    assert bought["status"] == "closed" and bought["filled"] == 0.004
    assert row["filled_quantity"] == 400_000 and row["status"] == "filled"
    assert Decimal(str(bought["cost"])) == Decimal(row["filled_quote"]) / 10**6
    assert bought["fee"]["currency"] == "BTC"
    by_cost = alice.create_market_buy_order_with_cost("BTC/USDT", 30)
    row = order_row(app, by_cost["id"])
    assert row["quote_amount"] == 30 * 10**6 and row["filled_quote"] == 30 * 10**6
    assert by_cost["filled"] == row["filled_quantity"] / 10**8

    # A resting order: query, list, cancel.
    bid = alice.create_order("BTC/USDT", "limit", "buy", 0.01, 20000)
    assert alice.fetch_order(bid["id"], "BTC/USDT")["status"] == "open"
    assert [o["id"] for o in alice.fetch_open_orders("BTC/USDT")] == [bid["id"]]
    edited = alice.edit_order(bid["id"], "BTC/USDT", "limit", "buy", 0.01, 21000)  # cancelReplace
    assert order_row(app, bid["id"])["status"] == "cancelled"
    assert edited["status"] == "open" and order_row(app, edited["id"])["price"] == 21000 * 10**6
    assert [o["id"] for o in alice.fetch_open_orders("BTC/USDT")] == [edited["id"]]
    cancelled = alice.cancel_order(edited["id"], "BTC/USDT")
    assert cancelled["status"] == "canceled"
    assert order_row(app, edited["id"])["status"] == "cancelled"

    # Market data and the account, against the database.
    fills = query(app, "SELECT * FROM trades WHERE symbol = 'BTC-USDT' ORDER BY id")
    ticker = alice.fetch_ticker("BTC/USDT")
    assert ticker["last"] == fills[-1]["price"] / 10**6
    assert Decimal(str(ticker["baseVolume"])) == Decimal(sum(f["quantity"] for f in fills)) / 10**8
    tape = alice.fetch_trades("BTC/USDT")
    assert [int(t["id"]) for t in tape] == [f["id"] for f in fills]
    candles = alice.fetch_ohlcv("BTC/USDT", "1m")
    assert candles[-1][4] == 30000.0
    mine = alice.fetch_my_trades("BTC/USDT")
    assert {int(t["id"]) for t in mine} == {f["id"] for f in fills}
    assert all(t["side"] == "buy" and t["takerOrMaker"] == "taker" for t in mine)
    balance = alice.fetch_balance()
    account = query(app, "SELECT b.asset, b.available, b.locked FROM balances b JOIN "
                         "ledger_accounts a ON a.id = b.account_id JOIN users u ON "
                         "u.id = a.user_id WHERE u.email = 'alice@demo.bitchange.local'")
    for line in account:
        scale = 10**8 if line["asset"] in ("BTC", "ETH") else 10**6
        assert Decimal(str(balance[line["asset"]]["free"])) == Decimal(line["available"]) / scale
        assert Decimal(str(balance[line["asset"]]["used"])) == Decimal(line["locked"]) / scale

    # A market sell by cost (quoteOrderQty), a stop-market buy by quantity (Binance's
    # STOP_LOSS), and what ccxt reads under /sapi/v1.
    alice.create_order("BTC/USDT", "limit", "buy", 0.01, 20000)
    sold = bob.create_market_sell_order_with_cost("BTC/USDT", 50)
    row = order_row(app, sold["id"])
    assert (row["side"], row["quote_amount"], row["filled_quantity"], row["filled_quote"]) == (
        "SELL", 50 * 10**6, 250_000, 50 * 10**6)  # 0.0025 BTC at 20,000
    assert sold["status"] == "closed" and sold["cost"] == 50.0 and sold["filled"] == 0.0025
    stop = alice.create_order("BTC/USDT", "market", "buy", 0.001, None, {"stopPrice": 40000})
    row = order_row(app, stop["id"])
    assert (row["stop_type"], row["quantity"], row["status"]) == ("STOP_LOSS", 100_000,
                                                                  "pending")
    assert row["held_amount"] == 42 * 10**6  # 0.001 at the stop, and the 5% margin
    assert alice.fetch_status()["status"] == "ok"
    fees = alice.fetch_trading_fees()
    assert (fees["BTC/USDT"]["maker"], fees["BTC/USDT"]["taker"]) == (0.001, 0.002)

    # The five error mappings.
    with pytest.raises(ccxt.InsufficientFunds):
        alice.create_order("BTC/USDT", "limit", "buy", 100, 20000)
    with pytest.raises(ccxt.OrderNotFound):
        alice.fetch_order("999999", "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound):
        alice.cancel_order("999999", "BTC/USDT")
    with pytest.raises(ccxt.InvalidOrder):  # a post-only buy at the ask would take
        alice.create_order("BTC/USDT", "limit", "buy", 0.001, 30000, {"postOnly": True})
    with pytest.raises(ccxt.BadSymbol):
        alice.public_get_depth({"symbol": "NOPEUSDT"})
    wrong = client(app, DEMO_API_KEYS["alice@demo.bitchange.local"][0], "x" * 64)
    with pytest.raises(ccxt.AuthenticationError):
        wrong.fetch_balance()
    assert query(app, "SELECT count(*) AS n FROM orders WHERE user_id = (SELECT id FROM users "
                      "WHERE email = 'alice@demo.bitchange.local')")[0]["n"] == 6  # none refused


@pytest.fixture(scope="module")
def app(own_app):  # type: ignore[no-untyped-def]
    """This module's orders rest in books of their own, not the shared app's."""
    return own_app
