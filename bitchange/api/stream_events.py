"""Binance-compatible public stream payloads (web-socket-streams.md), built from the database.

Pure builders turn rows into the documented JSON shapes (symbols without the dash, decimals as
strings with the asset's full precision, times in ms); `read_market_round` reads, in one
snapshot, what one watcher round needs for one market, so each event is built once per
process however many sockets receive it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice

from sqlalchemy import Connection, func, select

from bitchange.clock import aware, now
from bitchange.money import to_decimal
from bitchange.trading.book_levels import Levels, changed_levels, depth_snapshot, seq_of
from bitchange.trading.candles import INTERVALS, bucket
from bitchange.trading.markets import assets, get_market
from bitchange.trading.tables import Candle, Order, Trade

_trades = Trade.__table__
_candles = Candle.__table__
_orders = Order.__table__

PARTIAL_LEVELS = (5, 10, 20)
DAY_MS = 86_400_000


def wire_symbol(symbol: str) -> str:
    """'BTC-USDT' -> 'BTCUSDT' (Binance's spelling); streams use it lowercased."""
    return symbol.replace("-", "")


def ms(moment: datetime) -> int:
    return int(aware(moment).timestamp() * 1000)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Precisions:
    symbol: str  # 'BTCUSDT'
    base: int
    quote: int
    base_asset: str
    quote_asset: str

    def price(self, minor: int) -> str:
        return f"{to_decimal(minor, self.quote):f}"

    def qty(self, minor: int) -> str:
        return f"{to_decimal(minor, self.base):f}"

    def levels(self, levels: Levels) -> list[list[str]]:
        return [[self.price(p), self.qty(q)] for p, q in levels]


def precisions(conn: Connection, symbol: str) -> Precisions | None:
    market = get_market(conn, symbol)
    if market is None:
        return None
    infos = assets(conn)
    return Precisions(wire_symbol(symbol), infos[market.base].precision,
                      infos[market.quote].precision, market.base, market.quote)


# --- payloads ---------------------------------------------------------------------------


def trade_event(row, p: Precisions, event_ms: int) -> dict:  # type: ignore[no-untyped-def]
    """`<symbol>@trade`. The buyer is the maker when the taker sold."""
    buyer_is_maker = row.taker_side == "SELL"
    buyer, seller = ((row.maker_order_id, row.taker_order_id) if buyer_is_maker
                     else (row.taker_order_id, row.maker_order_id))
    return {"e": "trade", "E": event_ms, "s": p.symbol, "t": row.id, "p": p.price(row.price),
            "q": p.qty(row.quantity), "b": buyer, "a": seller, "T": ms(row.created_at),
            "m": buyer_is_maker, "M": True}


def aggregate_trades(rows: Iterable) -> Iterator[list]:  # type: ignore[type-arg]
    """Trades grouped as Binance aggregates them: consecutive fills of one taker order at one
    price, each group yielded once complete (the next row starts another, or the rows end).
    A taker order's fills are written in one transaction, so a group is never split between
    two reads; its id is its first trade's id, for the stream and REST `aggTrades` alike.
    Rows newest first give the same groups, newest first, each newest first."""
    group: list = []  # type: ignore[type-arg]
    for row in rows:
        if group and not same_aggregate(group[-1], row):
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def same_aggregate(one, other) -> bool:  # type: ignore[no-untyped-def]
    return (one.taker_order_id, one.price) == (other.taker_order_id, other.price)


def aggregate_json(group: list, p: Precisions) -> dict:  # type: ignore[type-arg]
    """One aggregate (its trades oldest first) as REST `aggTrades` lists it."""
    first, last = group[0], group[-1]
    return {"a": first.id, "p": p.price(first.price), "q": p.qty(sum(r.quantity for r in group)),
            "f": first.id, "l": last.id, "T": ms(first.created_at),
            "m": first.taker_side == "SELL", "M": True}


def agg_trade_event(group: list, p: Precisions, event_ms: int) -> dict:  # type: ignore[type-arg]
    return {"e": "aggTrade", "E": event_ms, "s": p.symbol} | aggregate_json(group, p)


def diff_depth_event(first_id: int, final_id: int, bids: Levels, asks: Levels,
                     p: Precisions, event_ms: int) -> dict:
    """`<symbol>@depth`: every level changed by updates `first_id..final_id`, absolute."""
    return {"e": "depthUpdate", "E": event_ms, "s": p.symbol, "U": first_id, "u": final_id,
            "b": p.levels(bids), "a": p.levels(asks)}


def partial_depth_event(last_id: int, bids: Levels, asks: Levels, p: Precisions,
                        levels: int) -> dict:
    """`<symbol>@depth<5|10|20>`."""
    return {"lastUpdateId": last_id, "bids": p.levels(bids[:levels]),
            "asks": p.levels(asks[:levels])}


def book_ticker_event(last_id: int, bids: Levels, asks: Levels, p: Precisions) -> dict:
    """`<symbol>@bookTicker`; an empty side shows price and quantity 0."""
    bid, ask = (bids[0] if bids else (0, 0)), (asks[0] if asks else (0, 0))
    return {"u": last_id, "s": p.symbol, "b": p.price(bid[0]), "B": p.qty(bid[1]),
            "a": p.price(ask[0]), "A": p.qty(ask[1])}


@dataclass(frozen=True)
class TradeStats:
    """Trades of one window: ids, count, prices and volumes (taker-buy volumes apart)."""

    first_id: int = -1
    last_id: int = -1
    count: int = 0
    open: int = 0
    close: int = 0
    high: int = 0
    low: int = 0
    last_qty: int = 0
    volume: int = 0
    quote_volume: int = 0
    taker_buy_volume: int = 0
    taker_buy_quote: int = 0


def kline_event(interval: str, open_time: int, candle, stats: TradeStats,  # type: ignore[no-untyped-def]
                p: Precisions, event_ms: int, *, closed: bool) -> dict:
    """`<symbol>@kline_<interval>`; OHLCV from the candles table, ids and counts from trades."""
    start = open_time * 1000
    return {"e": "kline", "E": event_ms, "s": p.symbol, "k": {
        "t": start, "T": start + INTERVALS[interval] * 1000 - 1, "s": p.symbol, "i": interval,
        "f": stats.first_id, "L": stats.last_id, "o": p.price(candle.open),
        "c": p.price(candle.close), "h": p.price(candle.high), "l": p.price(candle.low),
        "v": p.qty(candle.volume), "n": stats.count, "x": closed,
        "q": p.price(candle.quote_volume), "V": p.qty(stats.taker_buy_volume),
        "Q": p.price(stats.taker_buy_quote), "B": "0"}}


def weighted_price(quote_volume: int, volume: int, base_precision: int) -> int:
    """The volume-weighted average price of trades (0 without any), in quote minor units."""
    return quote_volume * 10**base_precision // volume if volume else 0


def percent_change(change: int, base: int) -> str:
    """Binance's priceChangePercent, to three decimals (truncated, in integers)."""
    thousandths = abs(change) * 100_000 // base if base else 0
    return f"{'-' if change < 0 else ''}{thousandths // 1000}.{thousandths % 1000:03d}"


def ticker_events(stats: TradeStats, before_price: int, bids: Levels, asks: Levels,
                  p: Precisions, event_ms: int) -> tuple[dict, dict]:
    """(`@ticker`, `@miniTicker`) over the 24 hours before `event_ms`."""
    bid, ask = (bids[0] if bids else (0, 0)), (asks[0] if asks else (0, 0))
    change = stats.close - stats.open
    weighted = weighted_price(stats.quote_volume, stats.volume, p.base)
    common = {"s": p.symbol, "c": p.price(stats.close), "o": p.price(stats.open),
              "h": p.price(stats.high), "l": p.price(stats.low), "v": p.qty(stats.volume),
              "q": p.price(stats.quote_volume)}
    ticker = {"e": "24hrTicker", "E": event_ms, **common, "p": p.price(change),
              "P": percent_change(change, stats.open), "w": p.price(weighted),
              "x": p.price(before_price), "Q": p.qty(stats.last_qty),
              "b": p.price(bid[0]), "B": p.qty(bid[1]), "a": p.price(ask[0]),
              "A": p.qty(ask[1]), "O": event_ms - DAY_MS, "C": event_ms,
              "F": stats.first_id, "L": stats.last_id, "n": stats.count}
    return ticker, {"e": "24hrMiniTicker", "E": event_ms, **common}


def rest_depth(conn: Connection, symbol: str, limit: int) -> dict:
    """The REST `GET /api/v3/depth` body; its `lastUpdateId` is the seq the diff stream's
    `U`/`u` count in. Read it in `book_levels.snapshot_read()`."""
    p = precisions(conn, symbol)
    if p is None:
        raise LookupError(symbol)
    seq, bids, asks = depth_snapshot(conn, symbol, limit)
    return {"lastUpdateId": seq, "bids": p.levels(bids), "asks": p.levels(asks)}


# --- reads --------------------------------------------------------------------------------


_TRADE_COLUMNS = (_trades.c.id, _trades.c.price, _trades.c.quantity, _trades.c.taker_side,
                  _trades.c.maker_order_id, _trades.c.taker_order_id, _trades.c.notional,
                  _trades.c.maker_fee, _trades.c.taker_fee, _trades.c.created_at)


def trades_after(conn: Connection, symbol: str, after_id: int) -> list:  # type: ignore[type-arg]
    """The market's trades after `after_id`, oldest first. Per market, ids grow in commit
    order (its writers are serialised by the market's lock)."""
    return list(conn.execute(select(*_TRADE_COLUMNS)
                             .where(_trades.c.symbol == symbol, _trades.c.id > after_id)
                             .order_by(_trades.c.id)))


def _trade_rows(conn: Connection, query, newest_first: bool,  # type: ignore[no-untyped-def]
                batch: int = 1000) -> Iterator:  # type: ignore[type-arg]
    """The query's trades in id order, read `batch` at a time as they are consumed."""
    last = None
    while True:
        if last is not None:
            query = query.where(_trades.c.id < last if newest_first else _trades.c.id > last)
        chunk = list(conn.execute(query.order_by(
            _trades.c.id.desc() if newest_first else _trades.c.id).limit(batch)))
        yield from chunk
        if len(chunk) < batch:
            return
        last = chunk[-1].id


def trade_aggregates(conn: Connection, symbol: str, limit: int, *, from_id: int | None = None,
                     start: datetime | None = None,
                     end: datetime | None = None) -> list[list]:  # type: ignore[type-arg]
    """Up to `limit` whole aggregates (`aggregate_trades`), oldest first, each oldest first:
    from aggregate id `from_id` on, or those whose first trade is within [start, end], or
    else the newest (before `end`, if given; `end` exclusive). An aggregate begun before the
    range is not one of its own."""
    query = select(*_TRADE_COLUMNS).where(_trades.c.symbol == symbol)
    if from_id is None and start is None:  # Binance: the most recent, up to endTime
        if end is not None:
            query = query.where(_trades.c.created_at < end)
        newest = islice(aggregate_trades(_trade_rows(conn, query, newest_first=True)), limit)
        return [group[::-1] for group in newest][::-1]
    if from_id is not None:
        query = query.where(_trades.c.id >= from_id)
    if start is not None:
        query = query.where(_trades.c.created_at >= start)
    if end is not None:
        query = query.where(_trades.c.created_at < end)
    groups = aggregate_trades(_trade_rows(conn, query, newest_first=False))
    first = next(groups, None)
    if first is None:
        return []
    before = conn.execute(select(*_TRADE_COLUMNS).where(
        _trades.c.symbol == symbol, _trades.c.id < first[0].id)
        .order_by(_trades.c.id.desc()).limit(1)).first()
    head = [] if before is not None and same_aggregate(before, first[0]) else [first]
    return (head + list(islice(groups, limit)))[:limit]


def last_trade_id(conn: Connection, symbol: str) -> int:
    return conn.scalar(select(func.max(_trades.c.id)).where(_trades.c.symbol == symbol)) or 0


def last_order_id(conn: Connection, symbol: str) -> int:
    return conn.scalar(select(func.max(_orders.c.id)).where(_orders.c.symbol == symbol)) or 0


def trade_stats(conn: Connection, symbol: str, start: datetime, end: datetime | None,
                from_id: int = 0) -> TradeStats:
    """The market's trades in [start, end); `from_id`: no trade of the window is older
    (the window only moves forward, so the caller keeps the last first id as a bound)."""
    t = _trades.c
    is_buy = t.taker_side == "BUY"
    where = [t.symbol == symbol, t.id >= from_id, t.created_at >= start]
    if end is not None:
        where.append(t.created_at < end)
    row = conn.execute(select(
        func.min(t.id), func.max(t.id), func.count(t.id), func.max(t.price), func.min(t.price),
        func.coalesce(func.sum(t.quantity), 0), func.coalesce(func.sum(t.notional), 0),
        func.coalesce(func.sum(t.quantity).filter(is_buy), 0),
        func.coalesce(func.sum(t.notional).filter(is_buy), 0)).where(*where)).one()
    if not row[2]:
        return TradeStats()
    first, last = (conn.execute(select(t.price, t.quantity).where(t.id == i)).one()
                   for i in (row[0], row[1]))
    return TradeStats(row[0], row[1], row[2], first.price, last.price, row[3], row[4],
                      last.quantity, int(row[5]), int(row[6]), int(row[7]), int(row[8]))


def price_before(conn: Connection, symbol: str, trade_id: int) -> int:
    """The price of the market's last trade before `trade_id` (0 if none)."""
    return conn.scalar(select(_trades.c.price)
                       .where(_trades.c.symbol == symbol, _trades.c.id < trade_id)
                       .order_by(_trades.c.id.desc()).limit(1)) or 0


def candle_at(conn: Connection, symbol: str, interval: str, open_time: int):  # type: ignore[no-untyped-def]
    return conn.execute(select(_candles).where(
        _candles.c.symbol == symbol, _candles.c.interval == interval,
        _candles.c.open_time == open_time)).first()


# --- one market, one round ----------------------------------------------------------------


@dataclass
class Wanted:
    """What this process's sockets listen to on one market this round."""

    trades: bool = False  # @trade or @aggTrade
    diff: bool = False
    partial: bool = False  # @depth<levels> due this round (the book moved, or it is time)
    book_ticker: bool = False
    klines: set[str] = field(default_factory=set)
    fresh_klines: set[str] = field(default_factory=set)  # new listeners: send the candle now
    ticker: bool = False  # @ticker or @miniTicker, due this round
    users: frozenset[int] = frozenset()  # users with a user data stream open here


@dataclass
class MarketCursor:
    """Where the watcher's previous round left one market."""

    seq: int
    trade_id: int
    order_id: int  # the market's newest order: a newer one is reported as NEW
    window_ids: dict[str, int] = field(default_factory=dict)  # window -> lower bound id
    kline_open: dict[str, int] = field(default_factory=dict)  # interval -> open time shown


def start_cursor(conn: Connection, symbol: str, seq: int) -> MarketCursor:
    return MarketCursor(seq, last_trade_id(conn, symbol), last_order_id(conn, symbol))


def kline_rolled(cursor: MarketCursor, intervals: set[str]) -> bool:
    """Whether a candle shown as open has since closed (it is sent once more, closed)."""
    moment = now()
    return any(open_time < bucket(moment, interval)
               for interval, open_time in cursor.kline_open.items() if interval in intervals)


@dataclass
class RoundEvents:
    """Events per stream suffix ('trade', 'depth', 'kline_1m'...), in publishing order."""

    events: dict[str, list[dict]] = field(default_factory=dict)
    # For the user data stream, read in the same snapshot (`user_stream.order_reports`):
    trades: list = field(default_factory=list)  # type: ignore[type-arg]
    precisions: Precisions | None = None
    after_seq: int = 0  # the book updates after_seq+1 .. upto_seq were read (equal: none)
    upto_seq: int = 0
    after_order_id: int = 0

    def add(self, suffix: str, payload: dict) -> None:
        self.events.setdefault(suffix, []).append(payload)


def read_market_round(conn: Connection, symbol: str, cursor: MarketCursor,
                      wanted: Wanted) -> RoundEvents:
    """This round's events of one market, from one snapshot (`book_levels.snapshot_read`);
    moves `cursor` on. The diff event covers every update after the cursor's seq up to the
    seq read here, so consecutive events chain (`U` = previous `u` + 1)."""
    out = RoundEvents()
    p = precisions(conn, symbol)
    if p is None:
        return out
    event_ms = now_ms()
    if wanted.partial or wanted.book_ticker or wanted.ticker:
        seq, bids, asks = depth_snapshot(conn, symbol, max(PARTIAL_LEVELS))
    else:
        seq, bids, asks = seq_of(conn, symbol) or 0, [], []
    new_trades = trades_after(conn, symbol, cursor.trade_id)
    out.trades, out.precisions = new_trades, p
    if new_trades:
        cursor.trade_id = new_trades[-1].id
    if wanted.trades:
        for row in new_trades:
            out.add("trade", trade_event(row, p, event_ms))
        for group in aggregate_trades(new_trades):
            out.add("aggTrade", agg_trade_event(group, p, event_ms))
    if seq != cursor.seq:
        out.after_seq, out.upto_seq, out.after_order_id = cursor.seq, seq, cursor.order_id
        cursor.order_id = last_order_id(conn, symbol)
        if wanted.diff:
            changed_bids, changed_asks = changed_levels(conn, symbol, cursor.seq, seq)
            out.add("depth", diff_depth_event(cursor.seq + 1, seq, changed_bids, changed_asks,
                                              p, event_ms))
        if wanted.book_ticker:
            out.add("bookTicker", book_ticker_event(seq, bids, asks, p))
        cursor.seq = seq
    if wanted.partial:  # Binance pushes it on its cadence whether the book moved or not
        for levels in PARTIAL_LEVELS:
            out.add(f"depth{levels}", partial_depth_event(seq, bids, asks, p, levels))
    for interval in sorted(wanted.klines):
        _klines(conn, symbol, interval, cursor, new_trades, p, event_ms, out,
                fresh=interval in wanted.fresh_klines)
    if wanted.ticker:
        since = now() - timedelta(hours=24)
        stats = trade_stats(conn, symbol, since, None, cursor.window_ids.get("24h", 0))
        if stats.count:
            cursor.window_ids["24h"] = stats.first_id
        before = price_before(conn, symbol, stats.first_id) if stats.count else 0
        ticker, mini = ticker_events(stats, before, bids, asks, p, event_ms)
        out.add("ticker", ticker)
        out.add("miniTicker", mini)
    return out


def _klines(conn: Connection, symbol: str, interval: str, cursor: MarketCursor,
            new_trades: list, p: Precisions, event_ms: int, out: RoundEvents,  # type: ignore[type-arg]
            *, fresh: bool) -> None:
    """The interval's candle when new trades touched it; the candle shown before is sent
    once more as closed when a later one opens."""
    current = bucket(now(), interval)
    shown = cursor.kline_open.get(interval)
    if shown is not None and shown < current:
        closed = candle_at(conn, symbol, interval, shown)
        if closed is not None:
            out.add(f"kline_{interval}", kline_event(
                interval, shown, closed, _window_stats(conn, symbol, interval, shown, cursor),
                p, event_ms, closed=True))
        cursor.kline_open.pop(interval)
    touched = {bucket(aware(row.created_at), interval) for row in new_trades}
    if current in touched or fresh:
        candle = candle_at(conn, symbol, interval, current)
        if candle is not None:
            out.add(f"kline_{interval}", kline_event(
                interval, current, candle,
                _window_stats(conn, symbol, interval, current, cursor), p, event_ms,
                closed=False))
            cursor.kline_open[interval] = current


def _window_stats(conn: Connection, symbol: str, interval: str, open_time: int,
                  cursor: MarketCursor) -> TradeStats:
    start = datetime.fromtimestamp(open_time, UTC)
    end = start + timedelta(seconds=INTERVALS[interval])
    key = f"kline_{interval}"
    stats = trade_stats(conn, symbol, start, end, cursor.window_ids.get(key, 0))
    if stats.count:
        cursor.window_ids[key] = stats.first_id
    return stats
