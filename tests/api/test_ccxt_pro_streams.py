"""An unmodified ccxt.pro `binance` client on the market streams (bitchange.web's routes
under Granian): it opens `/ws/0` and subscribes by message, keeps a local order book from the
diff stream and REST's snapshot, receives the trades, and fails a refused subscription
instead of waiting on it."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import ccxt
import ccxt.pro
import pytest
from sqlalchemy import select

from bitchange import db
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from bitchange.trading.tables import Trade
from tests.api.stream_fixtures import market_fixture  # noqa: F401 - `market`
from tests.api.stream_server import serving
from tests.trading.conftest import BTC, USDT, make_trader

WAIT = 30  # seconds: a bound against hanging, never a pause


def _limit(side: str, usdt: int, lots: int) -> OrderRequest:
    return OrderRequest(side=side, kind="limit", price=usdt * USDT, quantity=lots * BTC // 100)


def _client(ws_url: str) -> ccxt.pro.binance:
    host = ws_url.replace("ws://", "http://")
    return ccxt.pro.binance({
        "urls": {"api": {"public": host + "/api/v3", "private": host + "/api/v3",
                         "v1": host + "/api/v1", "sapi": host + "/sapi/v1",
                         "ws": {"spot": ws_url + "/ws"}}},
        # One socket for every stream (ccxt's streamLimits), so that an answer on it shows
        # the subscriptions sent before it are in place.
        "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                    "fetchMargins": False, "streamLimits": {"spot": 1}},
    })


async def _until(watch, done, what: str):  # type: ignore[no-untyped-def]
    """The first update `done` accepts; each call waits for a real update."""
    async def loop():  # type: ignore[no-untyped-def]
        while True:
            update = await watch()
            if done(update):
                return update
    try:
        return await asyncio.wait_for(loop(), WAIT)
    except TimeoutError:
        pytest.fail(f"no {what} within {WAIT} s")


async def test_ccxt_pro_keeps_the_book_and_sees_the_trades(market) -> None:
    buyer = make_trader("b@example.com", {"USDT": 1_000_000 * USDT})
    seller = make_trader("s@example.com", {"BTC": 10 * BTC})
    service.place_order(buyer.user_id, market, _limit("BUY", 60_000, 2))
    with serving() as url:
        exchange = _client(url)
        try:
            await exchange.load_markets()
            first_trades = asyncio.create_task(exchange.watch_trades("BTC/USDT"))
            # The ticker is sent to a new listener: subscribed after the trades, it is proof
            # that the server has the trade subscription.
            await asyncio.wait_for(exchange.watch_ticker("BTC/USDT"), WAIT)
            book = await asyncio.wait_for(exchange.watch_order_book("BTC/USDT"), WAIT)
            assert book["bids"] == [[60_000.0, 0.02]] and book["asks"] == []
            await asyncio.to_thread(service.place_order, buyer.user_id, market,
                                    _limit("BUY", 60_100, 1))
            await asyncio.to_thread(service.place_order, seller.user_id, market,
                                    _limit("SELL", 61_000, 3))
            book = await _until(lambda: exchange.watch_order_book("BTC/USDT"),
                                lambda b: b["asks"], "book update")
            assert book["bids"] == [[60_100.0, 0.01], [60_000.0, 0.02]]
            assert book["asks"] == [[61_000.0, 0.03]]
            depth = service.depth_snapshot(market, 10)
            assert book["nonce"] == depth[0]  # the update id the REST snapshot agrees on

            sold = await asyncio.to_thread(service.place_order, seller.user_id, market,
                                           _limit("SELL", 60_000, 2))
            await asyncio.wait_for(first_trades, WAIT)
            # The two fills may come in two events, and the second may arrive before the next
            # watch_trades call (which only waits for later ones): read ccxt's own cache of
            # every trade it received, waiting for more only while it lacks one.
            received = exchange.trades["BTC/USDT"]
            if len(received) < 2:
                await _until(lambda: exchange.watch_trades("BTC/USDT"),
                             lambda _: len(received) >= 2, "trades")
            trades = list(received)
            with db.read() as conn:
                rows = conn.execute(select(Trade.__table__).where(
                    Trade.__table__.c.taker_order_id == sold.order_id)
                    .order_by(Trade.__table__.c.id)).all()
            assert [(t["id"], Decimal(str(t["price"])), t["side"]) for t in trades[-2:]] == [
                (str(r.id), Decimal(r.price) / USDT, "sell") for r in rows]

            # An interval this exchange does not keep: refused, and ccxt raises at once.
            with pytest.raises(ccxt.ExchangeError, match="invalid stream name"):
                await asyncio.wait_for(exchange.watch_ohlcv("BTC/USDT", "3m"), WAIT)
        finally:
            await exchange.close()
