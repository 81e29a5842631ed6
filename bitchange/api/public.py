"""Public market data: ping, time, exchangeInfo, depth, trades, historicalTrades, aggTrades,
klines, uiKlines, tickers, avgPrice. Symbols without the dash (BTCUSDT), decimals as strings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, func, literal, select

from bitchange import db
from bitchange.api import errors
from bitchange.api.http import Call, Params, endpoint, server_ms
from bitchange.api.limits import limiter
from bitchange.api.market import Market
from bitchange.api.stream_events import (
    Precisions,
    aggregate_json,
    percent_change,
    trade_aggregates,
    trade_stats,
    weighted_price,
)
from bitchange.clock import now
from bitchange.money import MAX_MINOR
from bitchange.trading import market_data, service
from bitchange.trading.candles import INTERVALS, SUMMED
from bitchange.trading.conditional import MAX_TRAILING_DELTA, MIN_TRAILING_DELTA
from bitchange.trading.markets import (
    assets,
    list_markets,
    market_with_assets,
)
from bitchange.trading.tables import Candle, Trade

_trades = Trade.__table__
_candles = Candle.__table__


def all_markets(conn: Connection) -> list[Market]:
    infos = assets(conn)
    return [Market(m, infos[m.base], infos[m.quote]) for m in list_markets(conn)]


_symbols: dict[str, str] = {}  # API name -> market symbol (markets are never renamed)


def market_of(conn: Connection, params: Params, *, required: bool = True) -> Market | None:
    name = params.text("symbol", required=required)
    if name is None:
        return None
    if name not in _symbols:  # a market added since, or a bad name: look again
        _symbols.update({m.name: m.info.symbol for m in all_markets(conn)})
    found = market_with_assets(conn, _symbols[name]) if name in _symbols else None
    if found is None:
        raise errors.error(errors.BAD_SYMBOL)
    return Market(*found)


def ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def _limit(params: Params, default: int, top: int) -> int:
    return params.integer("limit", default=default, lo=1, hi=top)  # type: ignore[return-value]


def _symbol_names(params: Params) -> list[str] | None:
    """The markets `symbols` names, a JSON list (None when it is not sent)."""
    names = params.text("symbols")
    return None if names is None else [
        n.strip().strip('"') for n in names.strip("[]").split(",") if n.strip()]


def depth_weight(params: Params) -> int:
    """5 up to limit 100, 25 to 500, 50 to 1000, 250 above (Binance's)."""
    text = params.values.get("limit", "")
    limit = int(text) if text.isdigit() else 100
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def ticker_24hr_weight(params: Params) -> int:
    """2 for a symbol or up to 20 symbols, 40 for up to 100, 80 for more or all (Binance's)."""
    if params.values.get("symbol"):
        return 2
    names = _symbol_names(params)
    return 80 if names is None or len(names) > 100 else 40 if len(names) > 20 else 2


def price_weight(params: Params) -> int:
    """2 for a symbol, 4 for several or all (Binance's)."""
    return 2 if params.values.get("symbol") else 4


def rolling_ticker_weight(params: Params) -> int:
    """4 per symbol, at most 200 (Binance's)."""
    return 4 if params.values.get("symbol") else min(200, 4 * max(1, len(
        _symbol_names(params) or ())))


@endpoint(1)
def ping(call: Call) -> dict:  # type: ignore[type-arg]
    return {}


@endpoint(1)
def time(call: Call) -> dict:  # type: ignore[type-arg]
    return {"serverTime": server_ms()}


@endpoint(1)
def system_status(call: Call) -> dict:  # type: ignore[type-arg]
    """/sapi/v1/system/status (ccxt's fetch_status): 0 "normal" while the database answers,
    1 "system maintenance" when it does not (nothing can be saved then)."""
    try:
        with db.read() as conn:
            conn.execute(select(literal(1)))
    except Exception as exc:
        if not db.is_storage_fault(exc):
            raise
        return {"status": 1, "msg": "system maintenance"}
    return {"status": 0, "msg": "normal"}


def _filters(m: Market) -> list[dict]:  # type: ignore[type-arg]
    max_qty = m.qty(9_000_000 * 10**m.base.precision)
    return [
        {"filterType": "PRICE_FILTER", "minPrice": m.price(m.info.tick_size),
         "maxPrice": m.price(1_000_000_000 * 10**m.quote.precision),
         "tickSize": m.price(m.info.tick_size)},
        {"filterType": "LOT_SIZE", "minQty": m.qty(m.info.lot_size), "maxQty": max_qty,
         "stepSize": m.qty(m.info.lot_size)},
        {"filterType": "MARKET_LOT_SIZE", "minQty": m.qty(m.info.lot_size), "maxQty": max_qty,
         "stepSize": m.qty(m.info.lot_size)},
        {"filterType": "NOTIONAL", "minNotional": m.quote_qty(m.info.min_notional),
         "applyMinToMarket": True, "maxNotional": m.quote_qty(9 * 10**(15 + m.quote.precision)
                                                              // 10**6),
         "applyMaxToMarket": False, "avgPriceMins": 5},
        {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": MIN_TRAILING_DELTA,
         "maxTrailingAboveDelta": MAX_TRAILING_DELTA, "minTrailingBelowDelta": MIN_TRAILING_DELTA,
         "maxTrailingBelowDelta": MAX_TRAILING_DELTA},
    ]


STP_MODES = ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]
ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
               "TAKE_PROFIT_LIMIT"]


def _status(m: Market) -> str:
    return "TRADING" if m.info.is_active else "HALT"


def _asked_status(params: Params) -> str | None:
    status = params.text("symbolStatus")
    if status is not None and status not in ("TRADING", "HALT", "BREAK"):
        raise errors.invalid("symbolStatus")
    return status


def _check_status(m: Market, params: Params) -> None:
    """A market named alone must have the `symbolStatus` asked for, if any (-1220)."""
    status = _asked_status(params)
    if status is not None and _status(m) != status:
        raise errors.error(errors.STATUS_MISMATCH)


def symbol_info(m: Market) -> dict:  # type: ignore[type-arg]
    return {
        "symbol": m.name, "status": _status(m),
        "baseAsset": m.base.code, "baseAssetPrecision": m.base.precision,
        "quoteAsset": m.quote.code, "quotePrecision": m.quote.precision,
        "quoteAssetPrecision": m.quote.precision,
        "baseCommissionPrecision": m.base.precision,
        "quoteCommissionPrecision": m.quote.precision,
        "orderTypes": ORDER_TYPES,
        "icebergAllowed": False, "ocoAllowed": True, "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True,
        "cancelReplaceAllowed": False, "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False, "filters": _filters(m), "permissions": [],
        "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_TAKER",
        "allowedSelfTradePreventionModes": STP_MODES,
    }


@endpoint(20)
def exchange_info(call: Call) -> dict:  # type: ignore[type-arg]
    if call.params.text("symbolStatus") is not None and (
            call.params.text("symbol") is not None or call.params.text("symbols") is not None):
        raise errors.error(errors.BAD_COMBO)  # Binance: not with `symbol` or `symbols`
    with db.read() as conn:
        markets, _ = _wanted(conn, call.params)
    return {"timezone": "UTC", "serverTime": server_ms(), "rateLimits": limiter().rate_limits(),
            "exchangeFilters": [], "symbols": [symbol_info(m) for m in markets]}


@endpoint(depth_weight)
def depth(call: Call) -> dict:  # type: ignore[type-arg]
    with db.read() as conn:
        m = market_of(conn, call.params)
    assert m is not None
    _check_status(m, call.params)
    limit = min(_limit(call.params, 100, MAX_MINOR), 5000)  # Binance: more gives 5000
    seq, bids, asks = service.depth_snapshot(m.info.symbol, limit)
    return {"lastUpdateId": seq,
            "bids": [[m.price(p), m.qty(q)] for p, q in bids],
            "asks": [[m.price(p), m.qty(q)] for p, q in asks]}


def _trade_rows(conn: Connection, m: Market, params: Params):  # type: ignore[no-untyped-def]
    limit = _limit(params, 500, 1000)
    query = select(_trades.c.id, _trades.c.price, _trades.c.quantity, _trades.c.notional,
                   _trades.c.taker_side, _trades.c.created_at).where(
        _trades.c.symbol == m.info.symbol)
    from_id = params.integer("fromId")
    if from_id is not None:
        return list(conn.execute(query.where(_trades.c.id >= from_id).order_by(_trades.c.id)
                                 .limit(limit)))
    start, end = params.integer("startTime"), params.integer("endTime")
    if start is not None or end is not None:
        if start is not None:
            query = query.where(_trades.c.created_at >= moment_of(start))
        if end is not None:
            query = query.where(_trades.c.created_at < moment_of(end + 1))
        return list(conn.execute(query.order_by(_trades.c.id).limit(limit)))
    return list(reversed(list(conn.execute(query.order_by(_trades.c.id.desc()).limit(limit)))))


def moment_of(stamp_ms: int) -> datetime:
    """A time in ms as a datetime (an inclusive end `e` in ms is `< moment_of(e + 1)`)."""
    return datetime.fromtimestamp(stamp_ms / 1000, UTC)


@endpoint(25)
def trades(call: Call) -> list:  # type: ignore[type-arg]
    """Trades: the most recent, or from the trade `fromId` on (historicalTrades)."""
    with db.read() as conn:
        m = market_of(conn, call.params)
        assert m is not None
        rows = _trade_rows(conn, m, call.params)
    return [{"id": r.id, "price": m.price(r.price), "qty": m.qty(r.quantity),
             "quoteQty": m.quote_qty(r.notional), "time": ms(r.created_at),
             "isBuyerMaker": r.taker_side == "SELL", "isBestMatch": True} for r in rows]


@endpoint(4)
def agg_trades(call: Call) -> list:  # type: ignore[type-arg]
    """Aggregates numbered as the `@aggTrade` stream numbers them (`aggregate_trades`)."""
    params = call.params
    limit = _limit(params, 500, 1000)
    start, end = params.integer("startTime"), params.integer("endTime")
    with db.read() as conn:
        m = market_of(conn, params)
        assert m is not None
        groups = trade_aggregates(
            conn, m.info.symbol, limit, from_id=params.integer("fromId"),
            start=moment_of(start) if start is not None else None,
            end=moment_of(end + 1) if end is not None else None)
    p = Precisions(m.name, m.base.precision, m.quote.precision, m.base.code, m.quote.code)
    return [aggregate_json(group, p) for group in groups]


_TIME_ZONE = re.compile(r"^([+-]?)([0-9]{1,2})(?::([0-5][0-9]))?$")


def _time_zone(params: Params) -> int:
    """`timeZone` in seconds east of UTC: hours, or hours and minutes, in [-12:00, +14:00]."""
    text = params.text("timeZone")
    if text is None:
        return 0
    match = _TIME_ZONE.match(text.strip().replace(" ", "+"))  # an unencoded "+" reads as " "
    if match is None:
        raise errors.invalid("timeZone")
    offset = (-1 if match[1] == "-" else 1) * (int(match[2]) * 3600 + int(match[3] or 0) * 60)
    if not -12 * 3600 <= offset <= 14 * 3600:
        raise errors.invalid("timeZone")
    return offset


def _candle_rows(conn: Connection, m: Market, interval: str, params: Params,  # type: ignore[no-untyped-def]
                 offset: int):
    """The candles asked for, ascending: those from the one holding `startTime` on, or the
    most recent ones (to `endTime`'s), `limit` of them. In a time zone (`offset`) that moves
    the interval's boundaries (a day in UTC+8), each is added up from the largest kept
    candles that fit in it."""
    seconds = INTERVALS[interval]
    limit = _limit(params, 500, 1000)
    start, end = params.integer("startTime"), params.integer("endTime")
    kept = interval if offset % seconds == 0 else max(
        (i for i, size in INTERVALS.items() if seconds % size == 0 and offset % size == 0),
        key=INTERVALS.__getitem__)
    size = INTERVALS[kept]
    first = None if start is None else start // 1000 - (start // 1000 + offset) % seconds
    last = None if end is None else end // 1000 - (end // 1000 + offset) % seconds
    query = select(_candles).where(_candles.c.symbol == m.info.symbol,
                                   _candles.c.interval == kept)
    if last is not None:
        query = query.where(_candles.c.open_time < last + seconds)
    cap = limit * (seconds // size)  # enough kept candles for `limit` whole ones
    if first is not None:
        rows = conn.execute(query.where(_candles.c.open_time >= first)
                            .order_by(_candles.c.open_time).limit(cap)).all()
    else:
        rows = conn.execute(query.order_by(_candles.c.open_time.desc()).limit(cap)).all()[::-1]
    if kept == interval:
        return rows
    candles = _added_up(rows, seconds, offset)
    if len(rows) == cap:  # the cut may have split the candle at the far end: leave it out
        candles = candles[:-1] if first is not None else candles[1:]
    return candles[:limit] if first is not None else candles[-limit:]


def _added_up(rows: Sequence[Any], seconds: int, offset: int) -> list[SimpleNamespace]:
    """Ascending candles added up into candles of `seconds` starting at whole multiples of
    them in the time zone `offset` seconds east of UTC."""
    out: list[SimpleNamespace] = []
    for row in rows:
        open_time = row.open_time - (row.open_time + offset) % seconds
        if out and out[-1].open_time == open_time:
            candle = out[-1]
            candle.high, candle.low = max(candle.high, row.high), min(candle.low, row.low)
            candle.close = row.close
            for name in SUMMED:
                setattr(candle, name, getattr(candle, name) + getattr(row, name))
        else:
            out.append(SimpleNamespace(**row._asdict() | {"open_time": open_time}))
    return out


@endpoint(2)
def klines(call: Call) -> list:  # type: ignore[type-arg]
    """Candles in UTC, or in `timeZone` (startTime and endTime are UTC either way); uiKlines
    answers the same."""
    interval = call.params.text("interval", required=True)
    if interval not in INTERVALS:
        raise errors.error(errors.BAD_INTERVAL)
    seconds = INTERVALS[interval]
    offset = _time_zone(call.params)
    with db.read() as conn:
        m = market_of(conn, call.params)
        assert m is not None
        rows = _candle_rows(conn, m, interval, call.params, offset)
    return [[r.open_time * 1000, m.price(r.open), m.price(r.high), m.price(r.low),
             m.price(r.close), m.qty(r.volume), (r.open_time + seconds) * 1000 - 1,
             m.quote_qty(r.quote_volume), r.trade_count, m.qty(r.taker_buy_volume),
             m.quote_qty(r.taker_buy_quote_volume), "0"] for r in rows]


def _wanted(conn: Connection, params: Params) -> tuple[list[Market], bool]:
    """The markets asked for (`symbol` or a JSON `symbols` list) and whether one was named.
    With `symbolStatus`, as Binance: a market named alone must have it (-1220); of several,
    those without it are left out."""
    single = market_of(conn, params, required=False)
    if single is not None:
        _check_status(single, params)
        return [single], True
    markets = all_markets(conn)
    wanted = _symbol_names(params)
    if wanted is not None:
        if len(wanted) != len(set(wanted)):
            raise errors.ApiError(-1151, "Symbol is present multiple times in the list.")
        markets = [m for m in markets if m.name in wanted]
        if len(markets) != len(set(wanted)):
            raise errors.error(errors.BAD_SYMBOL)
    status = _asked_status(params)
    return [m for m in markets if status is None or _status(m) == status], False


def _one_or_all(items: list[dict], single: bool):  # type: ignore[no-untyped-def, type-arg]
    return items[0] if single else items


def _book_top(m: Market) -> tuple[list, list]:  # type: ignore[type-arg]
    _, bids, asks = service.depth_snapshot(m.info.symbol, 1)
    return bids, asks


def _ticker_24h(conn: Connection, m: Market) -> dict:  # type: ignore[type-arg]
    t = market_data.ticker(conn, m.info.symbol)
    close = now()
    opened = close - timedelta(hours=24)
    window = conn.execute(select(func.min(_trades.c.id), func.max(_trades.c.id),
                                 func.count(_trades.c.id)).where(
        _trades.c.symbol == m.info.symbol, _trades.c.created_at > opened)).one()
    last_qty = conn.scalar(select(_trades.c.quantity).where(_trades.c.symbol == m.info.symbol)
                           .order_by(_trades.c.id.desc()).limit(1))
    bids, asks = _book_top(m)
    last, first = t.last or 0, t.open or t.last or 0
    change = last - first if t.last is not None else 0
    weighted = weighted_price(t.quote_volume, t.volume, m.base.precision)
    return {
        "symbol": m.name, "priceChange": m.price(change),
        "priceChangePercent": percent_change(change, first),
        "weightedAvgPrice": m.price(weighted), "prevClosePrice": m.price(first),
        "lastPrice": m.price(last), "lastQty": m.qty(last_qty),
        "bidPrice": m.price(bids[0][0] if bids else 0), "bidQty": m.qty(bids[0][1] if bids else 0),
        "askPrice": m.price(asks[0][0] if asks else 0), "askQty": m.qty(asks[0][1] if asks else 0),
        "openPrice": m.price(first), "highPrice": m.price(t.high or last),
        "lowPrice": m.price(t.low or last), "volume": m.qty(t.volume),
        "quoteVolume": m.quote_qty(t.quote_volume), "openTime": ms(opened),
        "closeTime": ms(close), "firstId": window[0] if window[0] is not None else -1,
        "lastId": window[1] if window[1] is not None else -1, "count": window[2],
    }


# Binance's type=MINI ticker: these fields of the FULL one.
MINI_TICKER = ("symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume",
               "quoteVolume", "openTime", "closeTime", "firstId", "lastId", "count")


def _ticker_type(params: Params) -> str:
    kind = params.text("type") or "FULL"
    if kind not in ("FULL", "MINI"):
        raise errors.ApiError(-1139, "Invalid ticker type.")
    return kind


def _shaped(tickers: list[dict], kind: str) -> list[dict]:  # type: ignore[type-arg]
    """FULL tickers as `kind` asks for them."""
    return [{k: t[k] for k in MINI_TICKER} for t in tickers] if kind == "MINI" else tickers


@endpoint(ticker_24hr_weight)
def ticker_24hr(call: Call):  # type: ignore[no-untyped-def]
    kind = _ticker_type(call.params)
    with db.read() as conn:
        markets, single = _wanted(conn, call.params)
        tickers = [_ticker_24h(conn, m) for m in markets]
    return _one_or_all(_shaped(tickers, kind), single)


_WINDOW_SIZE = re.compile(r"^([1-9][0-9]?)([mhd])$")
_WINDOW_UNITS = {"m": (59, 60), "h": (23, 3_600), "d": (7, 86_400)}  # unit: (most, seconds)


def _window_seconds(params: Params) -> int:
    """`windowSize`: 1m-59m, 1h-23h or 1d-7d (default 1d)."""
    match = _WINDOW_SIZE.match(params.text("windowSize") or "1d")
    if match is None or int(match[1]) > _WINDOW_UNITS[match[2]][0]:
        raise errors.invalid("windowSize")
    return int(match[1]) * _WINDOW_UNITS[match[2]][1]


def _rolling_ticker(conn: Connection, m: Market, opened: datetime, close: datetime) -> dict:  # type: ignore[type-arg]
    stats = trade_stats(conn, m.info.symbol, opened, None)
    change = stats.close - stats.open
    weighted = weighted_price(stats.quote_volume, stats.volume, m.base.precision)
    return {"symbol": m.name, "priceChange": m.price(change),
            "priceChangePercent": percent_change(change, stats.open),
            "weightedAvgPrice": m.price(weighted), "openPrice": m.price(stats.open),
            "highPrice": m.price(stats.high), "lowPrice": m.price(stats.low),
            "lastPrice": m.price(stats.close), "volume": m.qty(stats.volume),
            "quoteVolume": m.quote_qty(stats.quote_volume), "openTime": ms(opened),
            "closeTime": ms(close), "firstId": stats.first_id, "lastId": stats.last_id,
            "count": stats.count}


@endpoint(rolling_ticker_weight)
def ticker_rolling(call: Call):  # type: ignore[no-untyped-def]
    """Binance's rolling window ticker: the trades from the minute `windowSize` ago began to
    now (so up to 59,999 ms more than the window, as Binance's)."""
    kind = _ticker_type(call.params)
    if call.params.text("symbol") is None and call.params.text("symbols") is None:
        raise errors.either("symbol", "symbols")
    close = now()
    start = close - timedelta(seconds=_window_seconds(call.params))
    opened = start.replace(second=0, microsecond=0)
    with db.read() as conn:
        markets, single = _wanted(conn, call.params)
        if len(markets) > 100:
            raise errors.ApiError(-1101, "Too many values sent for parameter 'symbols', "
                                         "maximum allowed up to 100.")
        tickers = [_rolling_ticker(conn, m, opened, close) for m in markets]
    return _one_or_all(_shaped(tickers, kind), single)


@endpoint(price_weight)
def ticker_price(call: Call):  # type: ignore[no-untyped-def]
    with db.read() as conn:
        markets, single = _wanted(conn, call.params)
        return _one_or_all([
            {"symbol": m.name, "price": m.price(market_data.ticker(conn, m.info.symbol).last)}
            for m in markets], single)


@endpoint(price_weight)
def ticker_book(call: Call):  # type: ignore[no-untyped-def]
    with db.read() as conn:
        markets, single = _wanted(conn, call.params)
    items = []
    for m in markets:
        bids, asks = _book_top(m)
        items.append({"symbol": m.name, "bidPrice": m.price(bids[0][0] if bids else 0),
                      "bidQty": m.qty(bids[0][1] if bids else 0),
                      "askPrice": m.price(asks[0][0] if asks else 0),
                      "askQty": m.qty(asks[0][1] if asks else 0)})
    return _one_or_all(items, single)


@endpoint(2)
def avg_price(call: Call) -> dict:  # type: ignore[type-arg]
    """The volume-weighted price of the last 5 minutes' fills (else the last trade's)."""
    with db.read() as conn:
        m = market_of(conn, call.params)
        assert m is not None
        since = now() - timedelta(minutes=5)
        volume, quote = conn.execute(select(
            func.coalesce(func.sum(_trades.c.quantity), 0),
            func.coalesce(func.sum(_trades.c.notional), 0)).where(
            _trades.c.symbol == m.info.symbol, _trades.c.created_at > since)).one()
        last = conn.execute(select(_trades.c.created_at, _trades.c.price).where(
            _trades.c.symbol == m.info.symbol).order_by(_trades.c.id.desc()).limit(1)).first()
    # No fill in the window: the last trade's price (a bot reads 0 as a price).
    price = (weighted_price(int(quote), int(volume), m.base.precision) if volume
             else last.price if last else 0)
    return {"mins": 5, "price": m.price(price), "closeTime": ms(last.created_at) if last else 0}
