"""Stream payloads built from a real SQLite database after real placements (Binance's shapes),
and the diff-depth chain: a local book built by Binance's procedure from a snapshot taken at
any moment equals the database's book."""

from __future__ import annotations

import contextlib
import itertools
import random
from decimal import Decimal

from bitchange.api.stream_events import (
    MarketCursor,
    Wanted,
    percent_change,
    read_market_round,
    rest_depth,
    start_cursor,
)
from bitchange.api.user_stream import order_reports
from bitchange.trading import service
from bitchange.trading.book_levels import depth_snapshot, seq_of, snapshot_read
from bitchange.trading.service import OrderRequest
from tests.api.local_book import OutOfSync, as_book, local_book
from tests.api.stream_fixtures import market_fixture  # noqa: F401 - `market`
from tests.trading.conftest import BTC, USDT, make_trader

FULL = 10_000  # levels: the whole book in these tests


def _cursor(symbol: str) -> MarketCursor:
    with snapshot_read() as conn:
        return start_cursor(conn, symbol, seq_of(conn, symbol) or 0)


def _round(symbol: str, cursor: MarketCursor, wanted: Wanted) -> dict[str, list[dict]]:
    with snapshot_read() as conn:
        return read_market_round(conn, symbol, cursor, wanted).events


def _snapshot(symbol: str) -> dict:
    with snapshot_read() as conn:
        return rest_depth(conn, symbol, FULL)


def _limit(side: str, usdt: int, btc_lots: int) -> OrderRequest:
    return OrderRequest(side=side, kind="limit", price=usdt * USDT, quantity=btc_lots * BTC // 100)


def test_trade_and_agg_trade_events_have_binances_shape(market) -> None:
    alice = make_trader("alice@example.com", {"BTC": 10 * BTC})
    bob = make_trader("bob@example.com", {"USDT": 1_000_000 * USDT})
    cursor = _cursor(market)
    service.place_order(alice.user_id, market, _limit("SELL", 65_000, 10))
    service.place_order(alice.user_id, market, _limit("SELL", 65_000, 20))
    taker = service.place_order(bob.user_id, market, _limit("BUY", 65_000, 25))
    events = _round(market, cursor, Wanted(trades=True))
    trades = events["trade"]
    assert [t["q"] for t in trades] == ["0.10000000", "0.15000000"]
    first = trades[0]
    assert set(first) == {"e", "E", "s", "t", "p", "q", "b", "a", "T", "m", "M"}
    assert (first["e"], first["s"], first["p"], first["m"]) == ("trade", "BTCUSDT",
                                                                "65000.000000", False)
    assert first["b"] == taker.order_id  # the buyer took: the buyer is not the maker
    assert isinstance(first["t"], int) and isinstance(first["T"], int)
    # One taker order at one price: one aggregate, numbered by its first trade.
    (agg,) = events["aggTrade"]
    assert set(agg) == {"e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"}
    assert (agg["a"], agg["f"], agg["l"]) == (first["t"], first["t"], trades[1]["t"])
    assert agg["q"] == "0.25000000" and agg["m"] is False
    assert _round(market, cursor, Wanted(trades=True)) == {}  # nothing new: nothing sent


def test_book_ticker_partial_depth_kline_and_ticker(market) -> None:
    alice = make_trader("alice@example.com", {"BTC": 10 * BTC})
    bob = make_trader("bob@example.com", {"USDT": 1_000_000 * USDT})
    cursor = _cursor(market)
    service.place_order(alice.user_id, market, _limit("SELL", 65_010, 10))
    service.place_order(alice.user_id, market, _limit("SELL", 65_000, 10))
    service.place_order(bob.user_id, market, _limit("BUY", 64_990, 30))
    service.place_order(bob.user_id, market, _limit("BUY", 65_000, 4))  # trades 0.04
    events = _round(market, cursor, Wanted(trades=True, partial=True, book_ticker=True,
                                           klines={"1m", "1h"}, ticker=True))
    seq = cursor.seq
    assert events["bookTicker"] == [{"u": seq, "s": "BTCUSDT", "b": "64990.000000",
                                     "B": "0.30000000", "a": "65000.000000",
                                     "A": "0.06000000"}]
    assert events["depth5"] == [{"lastUpdateId": seq,
                                 "bids": [["64990.000000", "0.30000000"]],
                                 "asks": [["65000.000000", "0.06000000"],
                                          ["65010.000000", "0.10000000"]]}]
    (kline,) = events["kline_1m"]
    k = kline["k"]
    assert (kline["e"], kline["s"], k["i"], k["x"]) == ("kline", "BTCUSDT", "1m", False)
    assert k["T"] - k["t"] == 60_000 - 1
    assert (k["o"], k["c"], k["v"], k["q"], k["n"]) == (
        "65000.000000", "65000.000000", "0.04000000", "2600.000000", 1)
    assert (k["V"], k["Q"]) == ("0.04000000", "2600.000000")  # the taker bought
    assert k["f"] == k["L"] == events["trade"][0]["t"]
    (ticker,) = events["ticker"]
    assert ticker["e"] == "24hrTicker" and ticker["n"] == 1
    assert (ticker["c"], ticker["Q"], ticker["b"], ticker["a"], ticker["w"]) == (
        "65000.000000", "0.04000000", "64990.000000", "65000.000000", "65000.000000")
    assert ticker["C"] - ticker["O"] == 86_400_000
    (mini,) = events["miniTicker"]
    assert set(mini) == {"e", "E", "s", "c", "o", "h", "l", "v", "q"}
    assert (mini["e"], mini["v"], mini["q"]) == ("24hrMiniTicker", "0.04000000",
                                                 "2600.000000")


def test_rest_depth_is_the_databases_book_at_its_seq(market) -> None:
    alice = make_trader("alice@example.com", {"BTC": 10 * BTC})
    placed = service.place_order(alice.user_id, market, _limit("SELL", 65_000, 10))
    service.place_order(alice.user_id, market, _limit("SELL", 65_000, 5))
    with snapshot_read() as conn:
        seq, bids, asks = depth_snapshot(conn, market, 10)
    assert (bids, asks) == ([], [(65_000 * USDT, 15 * BTC // 100)])
    service.cancel_order(alice.user_id, placed.order_id)
    body = _snapshot(market)
    assert body == {"lastUpdateId": seq + 1, "bids": [],
                    "asks": [["65000.000000", "0.05000000"]]}


def test_local_book_from_any_snapshot_reproduces_the_database(market) -> None:
    """Random placements, takers and cancels; the watcher's rounds fall after random batches,
    and clients take their REST snapshot at random moments between (mid-round). Every client
    that follows Binance's procedure ends with exactly the database's book, including levels
    that changed and came back within one round."""
    rng = random.Random(13)
    traders = [make_trader(f"t{i}@example.com", {"BTC": 50 * BTC, "USDT": 5_000_000 * USDT})
               for i in range(3)]
    cursor = _cursor(market)
    events: list[dict] = []
    snapshots: list[tuple[int, dict]] = []  # (events published before it, snapshot)
    open_orders: list[tuple[int, int]] = []
    for step in range(400):
        trader = rng.choice(traders)
        if open_orders and rng.random() < 0.35:
            owner, order_id = open_orders.pop(rng.randrange(len(open_orders)))
            with contextlib.suppress(service.TradingError):  # filled meanwhile
                service.cancel_order(owner, order_id)
        else:
            side = rng.choice(["BUY", "SELL"])
            price = rng.randint(64_990, 65_010)  # a narrow band: crossing and reverting levels
            placed = service.place_order(trader.user_id, market,
                                         _limit(side, price, rng.randint(1, 5)))
            if placed.status in ("open", "partially_filled"):
                open_orders.append((trader.user_id, placed.order_id))
        if rng.random() < 0.2:
            snapshots.append((len(events), _snapshot(market)))
        if rng.random() < 0.15 or step == 399:
            events.extend(_round(market, cursor, Wanted(diff=True)).get("depth", []))
    final = as_book(_snapshot(market))
    for earlier, later in itertools.pairwise(events):
        assert later["U"] == earlier["u"] + 1
    assert len(snapshots) > 20
    for published_before, snapshot in snapshots:
        # A client subscribed before its snapshot: its buffer holds every event from the
        # round before it on (earlier ones it may have missed are dropped by the rules).
        buffered = events[max(0, published_before - 1):]
        assert local_book(snapshot, buffered) == final


def test_a_gap_in_the_events_is_detected(market) -> None:
    alice = make_trader("alice@example.com", {"BTC": 10 * BTC})
    cursor = _cursor(market)
    snapshot = _snapshot(market)
    events = []
    for price in (65_000, 65_001, 65_002):
        service.place_order(alice.user_id, market, _limit("SELL", price, 1))
        events += _round(market, cursor, Wanted(diff=True))["depth"]
    assert local_book(snapshot, events)[1] == {Decimal("65000"): Decimal("0.01"),
                                               Decimal("65001"): Decimal("0.01"),
                                               Decimal("65002"): Decimal("0.01")}
    try:
        local_book(snapshot, [events[0], events[2]])
    except OutOfSync:
        pass
    else:
        raise AssertionError("a missing event went unnoticed")


def test_rest_agg_trades_number_aggregates_as_the_stream_does(market, client) -> None:
    """Takers sweeping several prices and makers: the `@aggTrade` events of the rounds and
    REST `aggTrades` (newest, from an id, in a time window, one by one) list the same
    aggregates under the same ids."""
    alice = make_trader("alice@example.com", {"BTC": 10 * BTC})
    bob = make_trader("bob@example.com", {"USDT": 1_000_000 * USDT})
    carol = make_trader("carol@example.com", {"BTC": 10 * BTC})
    cursor = _cursor(market)
    streamed: list[dict] = []
    for price in (65_000, 65_000, 65_010, 65_020):
        service.place_order(alice.user_id, market, _limit("SELL", price, 10))
        service.place_order(carol.user_id, market, _limit("SELL", price, 5))
    service.place_order(bob.user_id, market, _limit("BUY", 65_010, 35))  # 2 prices, 5 fills
    streamed += _round(market, cursor, Wanted(trades=True))["aggTrade"]
    service.place_order(bob.user_id, market, _limit("BUY", 65_020, 12))  # 2 prices, 3 fills
    service.place_order(bob.user_id, market, _limit("BUY", 65_020, 1))  # the same price again
    streamed += _round(market, cursor, Wanted(trades=True))["aggTrade"]
    stream = [{k: v for k, v in e.items() if k not in ("e", "E", "s")} for e in streamed]
    assert len(stream) == 5 and len({e["a"] for e in stream}) == 5

    def rest(query: str) -> list[dict]:
        answer = client.get(f"/api/v3/aggTrades?symbol=BTCUSDT&{query}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert rest("") == stream
    assert rest("limit=2") == stream[-2:]
    assert rest(f"fromId={stream[1]['a']}&limit=3") == stream[1:4]
    assert rest(f"fromId={stream[1]['a'] + 1}") == stream[2:]  # inside an aggregate: the next
    first_ms, last_ms = stream[0]["T"], stream[-1]["T"]
    assert rest(f"startTime={first_ms}&endTime={last_ms}") == stream
    one_by_one, after = [], stream[0]["a"]
    while batch := rest(f"fromId={after}&limit=1"):
        one_by_one += batch
        after = batch[0]["l"] + 1
    assert one_by_one == stream


def test_percent_change_is_truncated_in_integers() -> None:
    assert percent_change(1, 3) == "33.333"
    assert percent_change(-1, 3) == "-33.333"
    assert percent_change(-2, 3) == "-66.666"  # truncated toward zero, as the sign is apart
    assert percent_change(5, 0) == "0.000"
    assert percent_change(123_456, 1_000) == "12345.600"


def test_a_self_trade_prevented_order_is_reported_as_trade_prevention(market) -> None:
    """Binance's executionReport for an order self-trade prevention ended: execution type
    TRADE_PREVENTION, status EXPIRED_IN_MATCH; execution ids increase through the round."""
    alice = make_trader("alice@example.com", {"BTC": 10 * BTC, "USDT": 1_000_000 * USDT})
    cursor = _cursor(market)
    service.place_order(alice.user_id, market, _limit("SELL", 65_000, 1))
    taker = service.place_order(alice.user_id, market, _limit("BUY", 65_000, 1))
    with snapshot_read() as conn:
        out = read_market_round(conn, market, cursor, Wanted())
        reports = order_reports(conn, market, frozenset({alice.user_id}), out.after_seq,
                                out.upto_seq, out.after_order_id, out.trades,
                                out.precisions)[alice.user_id]  # type: ignore[arg-type]
    mine = [(r["i"], r["x"], r["X"]) for r in reports]
    assert mine[-1] == (taker.order_id, "TRADE_PREVENTION", "EXPIRED_IN_MATCH")
    ids = [r["I"] for r in reports]
    assert ids == sorted(set(ids)) and len(ids) == 3  # NEW, NEW, TRADE_PREVENTION
