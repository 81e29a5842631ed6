"""Binance-compatible public market streams over WebSocket (web-socket-streams.md).

- Raw streams at `/ws/<stream>` (or `/ws/<a>/<b>`, or `/ws` and SUBSCRIBE later), combined
  streams at `/stream?streams=<a>/<b>`, wrapped as `{"stream": name, "data": payload}`.
- Live SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY messages with
  the documented answers and error codes; at most 1024 streams per connection, 5 incoming
  messages per second (more closes the connection), 300 connection attempts per IP per 5
  minutes, and at most so many open sockets per process and per client IP (all settings,
  counted per process). Ping/pong frames are answered by the ASGI server's WebSocket layer.

The database is the bus, as for the trading screens (`bitchange.state.live`): each backend
process runs ONE watcher (`watch_streams`, a lifespan task) that reads every market's `seq` in
one query per round and, for each market that moved, reads that market's events once in one
snapshot (`stream_events.read_market_round`) and fans them out to this process's sockets:
each payload is serialised once per stream and queued on every listening socket, whose own
sender task writes it (a socket that falls too far behind is closed rather than slowing the
others). So several workers and several nodes each serve their own sockets from the same
database and agree on every event, including the diff-depth update ids (the market's seq).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import ClassVar

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy import Connection
from starlette.responses import JSONResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bitchange import db
from bitchange.api.stream_events import (
    MarketCursor,
    Wanted,
    kline_rolled,
    now_ms,
    read_market_round,
    start_cursor,
    wire_symbol,
)
from bitchange.api.user_stream import (
    balance_events,
    listen_key_owner,
    order_reports,
)
from bitchange.config import get_settings
from bitchange.ops import metrics
from bitchange.trading.book_levels import seq_of, snapshot_read
from bitchange.trading.candles import INTERVALS
from bitchange.trading.views import all_seqs, newest_ledger_transaction
from bitchange.web_guard import client_ip

log = logging.getLogger(__name__)

POLL_SECONDS = 0.025  # one tiny query per process per round while any socket is open
TICKER_SECONDS = 1.0  # Binance's update speed of @ticker and @miniTicker
PARTIAL_SECONDS = 1.0  # @depth<levels> is pushed at least this often, changed or not
KEY_CHECK_SECONDS = 1.0  # how soon a revoked or expired listenKey ends its open streams
MAX_STREAMS = 1024
QUEUE_LIMIT = 10_000  # events waiting for one socket before it is dropped as too slow
ID_TEXT = re.compile(r"^[A-Za-z0-9]{1,36}$")
LISTEN_KEY = re.compile(r"^[A-Za-z0-9]{60,64}$")  # Binance's are 60 letters and digits
INT64 = 2**63

_STREAM = re.compile(
    r"^(?P<symbol>[a-z0-9]+)@(?P<kind>trade|aggTrade|ticker|miniTicker|bookTicker"
    r"|kline_(?P<interval>[0-9a-zA-Z]+)|depth(?P<levels>5|10|20)?(?:@100ms|@1000ms)?)$")


class BadRequest(ValueError):
    """A control message Binance would refuse; `code` and the message are sent back."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code


def parse_stream(name: object, symbols: dict[str, str]) -> tuple[str, str]:
    """'btcusdt@depth@100ms' -> ('BTC-USDT', 'depth'): the market and the payload kind."""
    match = _STREAM.match(name) if isinstance(name, str) else None
    if match is None or match["symbol"] not in symbols:
        raise BadRequest(2, f"Invalid request: invalid stream name {name!r}")
    kind = match["kind"]
    if match["interval"] is not None:
        if match["interval"] not in INTERVALS:
            raise BadRequest(2, f"Invalid request: invalid stream name {name!r}")
    elif kind.startswith("depth"):
        kind = f"depth{match['levels'] or ''}"
    return symbols[match["symbol"]], kind


@dataclass(eq=False)
class Client:
    websocket: WebSocket
    combined: bool
    ip: str = ""
    user_id: int | None = None  # a user data stream (/ws/<listenKey>)
    listen_key: str = ""
    streams: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (market, kind)
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    # The user data subscriptions a WebSocket API connection carries (bitchange.api.ws_api).
    subscriptions: dict[int, Client] = field(default_factory=dict)
    subscriptions_made: int = 0
    closes_when_ended: ClassVar[bool] = True  # when its key lapses (`Hub.end_lapsed...`)

    def put(self, text: str) -> bool:
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        return True

    def still_live(self, conn: Connection) -> bool:
        """Whether this user data stream's key is still good."""
        return listen_key_owner(conn, self.listen_key) is not None

    def ended_event(self) -> dict[str, object]:
        return {"e": "listenKeyExpired", "E": now_ms(), "listenKey": self.listen_key}

    def detach(self) -> None:
        """Leave whatever carries it (a subscription, its connection); a socket: nothing."""


class Hub:
    """This process's sockets and what each listens to, and the watcher's cursors."""

    def __init__(self) -> None:
        self.clients: set[Client] = set()
        self.peers: Counter[str] = Counter()  # open sockets per client IP
        # (market, kind) -> socket -> the stream names it subscribed with (for the wrapper:
        # btcusdt@depth and btcusdt@depth@100ms are one payload, sent under each name)
        self.listeners: dict[tuple[str, str], dict[Client, set[str]]] = defaultdict(dict)
        self.symbols: dict[str, str] = {}  # 'btcusdt' -> 'BTC-USDT'
        self.cursors: dict[str, MarketCursor] | None = None
        self.users: dict[int, set[Client]] = defaultdict(set)  # user data streams
        self.ledger_mark = 0  # the newest ledger transaction the user streams have seen
        self.keys_checked = 0.0  # when the open user streams' listenKeys were last checked
        self.fresh: set[tuple[str, str]] = set()  # new listeners owed a first ticker/kline
        self.ticker_after: dict[str, float] = {}
        self.ticker_dirty: set[str] = set()
        self.partial_after: dict[str, float] = {}  # when each market's partial depth is due
        self.lock = asyncio.Lock()

    # --- sockets ------------------------------------------------------------------------

    def room_for(self, ip: str) -> bool:
        """Whether this process may open another socket (for this client IP)."""
        settings = get_settings()
        return len(self.clients) < settings.stream_max_connections and \
            self.peers[ip] < settings.stream_max_connections_per_ip

    def add(self, client: Client) -> None:
        self.clients.add(client)
        self.peers[client.ip] += 1
        metrics.STREAM_CLIENTS.set(len(self.clients))
        if client.user_id is not None:
            self.users[client.user_id].add(client)

    def follow_user(self, client: Client) -> None:
        """A user data subscription of a connection already added (the WebSocket API's)."""
        assert client.user_id is not None
        self.users[client.user_id].add(client)

    def remove(self, client: Client) -> None:
        for subscription in list(client.subscriptions.values()):
            self.remove(subscription)
        client.detach()
        if client in self.clients:
            self.clients.discard(client)
            self.peers[client.ip] -= 1
            if not self.peers[client.ip]:
                del self.peers[client.ip]
        metrics.STREAM_CLIENTS.set(len(self.clients))
        if client.user_id is not None and client.user_id in self.users:
            self.users[client.user_id].discard(client)
            if not self.users[client.user_id]:
                del self.users[client.user_id]
        for key in set(client.streams.values()):
            self.listeners[key].pop(client, None)
            if not self.listeners[key]:
                del self.listeners[key]
        client.streams.clear()

    def subscribe(self, client: Client, names: list[str]) -> None:
        parsed = [(name, parse_stream(name, self.symbols)) for name in names]
        if len(set(client.streams) | set(names)) > MAX_STREAMS:
            raise BadRequest(2, f"Invalid request: too many streams (at most {MAX_STREAMS})")
        for name, key in parsed:
            client.streams[name] = key
            self.listeners[key].setdefault(client, set()).add(name)
            if key[1] != "depth" and key[1].startswith(("ticker", "miniTicker", "kline_",
                                                         "depth")):
                self.fresh.add(key)  # owed a first event (the diff stream starts from REST)

    def unsubscribe(self, client: Client, names: list[str]) -> None:
        for name in names:
            key = client.streams.pop(name, None)
            if key is None:
                continue
            names_here = self.listeners[key].get(client, set())
            names_here.discard(name)
            if not names_here:
                self.listeners[key].pop(client, None)
            if not self.listeners[key]:
                del self.listeners[key]

    async def load_symbols(self) -> None:
        seqs = await asyncio.to_thread(_read_seqs)
        self.symbols = {wire_symbol(s).lower(): s for s in seqs}

    async def start_tracking(self) -> None:
        """Before a first socket is accepted: every market's cursor at its current seq and
        newest trade, so that nothing committed after the handshake is missed."""
        async with self.lock:
            if self.cursors is None:
                self.cursors, self.ledger_mark = await asyncio.to_thread(_start_cursors)
                self.symbols = {wire_symbol(s).lower(): s for s in self.cursors}

    # --- the watcher --------------------------------------------------------------------

    def wanted(self, market: str, moved: bool, clock: float) -> Wanted:
        kinds = {kind for (m, kind) in self.listeners if m == market}
        fresh = {kind for (m, kind) in self.fresh if m == market}
        ticker_kinds = kinds & {"ticker", "miniTicker"}
        if moved and ticker_kinds:
            self.ticker_dirty.add(market)
        ticker_due = bool(ticker_kinds) and (market in self.ticker_dirty or bool(
            fresh & ticker_kinds)) and clock >= self.ticker_after.get(market, 0.0)
        partial = any(k.startswith("depth") and k != "depth" for k in kinds)
        return Wanted(
            trades=bool(kinds & {"trade", "aggTrade"}), diff="depth" in kinds,
            partial=partial and (moved or clock >= self.partial_after.get(market, 0.0)
                                 or any(k.startswith("depth") for k in fresh)),
            book_ticker="bookTicker" in kinds,
            klines={k.removeprefix("kline_") for k in kinds if k.startswith("kline_")},
            fresh_klines={k.removeprefix("kline_") for k in fresh if k.startswith("kline_")},
            ticker=ticker_due)

    async def run_round(self) -> int:
        """One round; returns how many events were published."""
        async with self.lock:
            if not self.clients:
                self.cursors = None  # nobody listens: stop tracking until the next socket
                return 0
            if self.cursors is None:
                self.cursors, self.ledger_mark = await asyncio.to_thread(_start_cursors)
            # The ledger mark is read with the seqs, so a balance change is reported no earlier
            # than the order change behind it (Binance sends the executionReport first).
            seqs, newest_tx = await asyncio.to_thread(_read_marks)
            self.symbols = {wire_symbol(s).lower(): s for s in seqs}
            published = 0
            clock = time.monotonic()
            for market, seq in seqs.items():
                cursor = self.cursors.get(market)
                if cursor is None:  # a market added since: follow it from now on
                    self.cursors[market] = await asyncio.to_thread(_start_cursor, market)
                    continue
                wanted = self.wanted(market, seq != cursor.seq, clock)
                wanted.users = frozenset(self.users)
                if seq == cursor.seq and not (wanted.ticker or wanted.fresh_klines or
                                              wanted.partial or
                                              kline_rolled(cursor, wanted.klines)):
                    continue
                events, reports = await asyncio.to_thread(_read_round, market, cursor, wanted)
                for kind, payloads in events.items():
                    for payload in payloads:
                        published += self.publish(market, kind, payload)
                published += self.publish_private(reports)
                if wanted.ticker:
                    self.ticker_dirty.discard(market)
                    self.ticker_after[market] = clock + TICKER_SECONDS
                if wanted.partial:
                    self.partial_after[market] = clock + PARTIAL_SECONDS
                self.fresh -= {(market, k) for k in events} | {
                    (market, f"kline_{i}") for i in wanted.fresh_klines}
            if self.users:
                reports = await asyncio.to_thread(_read_balances, self.ledger_mark, newest_tx,
                                                  frozenset(self.users))
                published += self.publish_private(reports)
            self.ledger_mark = max(self.ledger_mark, newest_tx)
            if self.users and clock >= self.keys_checked + KEY_CHECK_SECONDS:
                self.keys_checked = clock
                await self.end_lapsed_user_streams()
            return published

    async def end_lapsed_user_streams(self) -> None:
        """A listenKey that expired, was closed, or whose API key was revoked (a frozen
        account, "this wasn't me"...) ends its streams with Binance's `listenKeyExpired`;
        a WebSocket API subscription whose key lapsed, with `eventStreamTerminated`."""
        streams = [c for sockets in self.users.values() for c in sockets]
        live = await asyncio.to_thread(_still_live, streams)
        for client in streams:
            if client in live or client not in self.users.get(client.user_id, ()):  # type: ignore[arg-type]
                continue  # good, or ended meanwhile (unsubscribed, its socket closed)
            client.put(json.dumps(client.ended_event(), separators=(",", ":")))
            self.remove(client)
            if client.closes_when_ended:
                asyncio.get_running_loop().create_task(_close_after_queue(client))

    def publish_private(self, reports: dict[int, list[dict]]) -> int:
        """Each user's events to that user's own sockets only."""
        for user_id, payloads in reports.items():
            for client in list(self.users.get(user_id, ())):
                for payload in payloads:
                    if not client.put(json.dumps(payload, separators=(",", ":"))):
                        self.remove(client)
                        asyncio.get_running_loop().create_task(
                            close_client(client, 1008, "too slow"))
                        break
        return sum(len(p) for p in reports.values())

    def publish(self, market: str, kind: str, payload: dict) -> int:
        """Serialise once, queue on every listening socket; returns 1 if anyone listened."""
        listening = self.listeners.get((market, kind))
        if not listening:
            return 0
        raw = json.dumps(payload, separators=(",", ":"))
        wrapped: dict[str, str] = {}
        for client, names in list(listening.items()):
            for name in sorted(names):
                if client.combined:
                    text = wrapped.get(name)
                    if text is None:
                        text = wrapped[name] = f'{{"stream":{json.dumps(name)},"data":{raw}}}'
                else:
                    text = raw
                if not client.put(text):
                    log.warning("stream socket too slow; closing it")
                    self.remove(client)
                    asyncio.get_running_loop().create_task(close_client(client, 1008, "too slow"))
                    break
        return 1


def _read_seqs() -> dict[str, int]:
    with db.read() as conn:
        return all_seqs(conn)


def _start_cursor(market: str) -> MarketCursor:
    with snapshot_read() as conn:
        return start_cursor(conn, market, seq_of(conn, market) or 0)


def _start_cursors() -> tuple[dict[str, MarketCursor], int]:
    with snapshot_read() as conn:
        return ({m: start_cursor(conn, m, seq) for m, seq in all_seqs(conn).items()},
                newest_ledger_transaction(conn))


def _read_round(market: str, cursor: MarketCursor,
                wanted: Wanted) -> tuple[dict[str, list[dict]], dict[int, list[dict]]]:
    """The market's public events and, from the same snapshot, its users' order reports."""
    with snapshot_read() as conn:
        out = read_market_round(conn, market, cursor, wanted)
        reports = {}
        if wanted.users and out.precisions is not None:
            reports = order_reports(conn, market, wanted.users, out.after_seq, out.upto_seq,
                                    out.after_order_id, out.trades, out.precisions)
        return out.events, reports


def _read_marks() -> tuple[dict[str, int], int]:
    with db.read() as conn:
        return all_seqs(conn), newest_ledger_transaction(conn)


def _read_balances(after_tx: int, upto_tx: int,
                   users: frozenset[int]) -> dict[int, list[dict]]:
    with snapshot_read() as conn:
        return balance_events(conn, after_tx, upto_tx, users)


def _listen_key_owner(listen_key: str) -> int | None:
    with db.read() as conn:
        return listen_key_owner(conn, listen_key)


def _still_live(streams: list[Client]) -> set[Client]:
    with db.read() as conn:
        return {client for client in streams if client.still_live(conn)}


hub = Hub()

_attempts = MovingWindowRateLimiter(MemoryStorage())


def _connection_limit() -> RateLimitItemPerMinute:
    return RateLimitItemPerMinute(get_settings().stream_connections_per_5m, 5)


def _message_limit() -> RateLimitItemPerSecond:
    return RateLimitItemPerSecond(get_settings().stream_messages_per_second)


async def watch_streams() -> None:
    """The lifespan task: one watcher per backend process, for as long as it runs."""
    while True:
        started = time.monotonic()
        try:
            await hub.run_round()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("stream watcher round failed")
        await asyncio.sleep(max(0.01, POLL_SECONDS - (time.monotonic() - started)))


# --- the endpoints ------------------------------------------------------------------------


async def _close_after_queue(client: Client) -> None:
    """Close once the sender has written what is queued (the last event)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(client.queue.join(), 5)
    await close_client(client, 1000, "listenKey expired")


async def close_client(client: Client, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await client.websocket.close(code, reason)


def _request_id(message: dict) -> object:
    rid = message.get("id")
    if rid is None or (isinstance(rid, int) and not isinstance(rid, bool)
                       and -INT64 <= rid < INT64) or (
                           isinstance(rid, str) and ID_TEXT.match(rid)):
        return rid
    raise BadRequest(2, "Invalid request: request ID must be an unsigned integer")


def _stream_params(message: dict) -> list[str]:
    params = message.get("params")
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise BadRequest(2, "Invalid request: params must be a list of stream names")
    return params


def _error(code: int, msg: str, **rid: object) -> dict:
    """A refusal as Binance's documented table has it (`code`, `msg`) and as its live servers
    send it, which clients (ccxt) read: the same under `error`."""
    return {"error": {"code": code, "msg": msg}, "code": code, "msg": msg, **rid}


def handle_message(client: Client, text: str) -> dict:
    """The answer to one control message (Binance's live subscribing section)."""
    try:
        message = json.loads(text)
    except ValueError as exc:
        return _error(3, f"Invalid JSON: {exc}")
    if not isinstance(message, dict):
        return _error(3, "Invalid JSON: expected an object")
    try:
        rid = _request_id(message)
    except BadRequest as exc:
        return _error(exc.code, str(exc))
    try:
        return {"result": _run_method(client, message), "id": rid}
    except BadRequest as exc:
        return _error(exc.code, str(exc), id=rid)


def _run_method(client: Client, message: dict) -> object:
    method = message.get("method")
    if method is None:
        raise BadRequest(2, "Invalid request: missing field `method`")
    if method == "SUBSCRIBE":
        hub.subscribe(client, _stream_params(message))
        return None
    if method == "UNSUBSCRIBE":
        hub.unsubscribe(client, _stream_params(message))
        return None
    if method == "LIST_SUBSCRIPTIONS":
        return list(client.streams)
    if method in ("SET_PROPERTY", "GET_PROPERTY"):
        params = message.get("params")
        if not isinstance(params, list) or not params or not isinstance(params[0], str):
            raise BadRequest(2, "Invalid request: property name must be a string")
        if params[0] != "combined":
            raise BadRequest(0, "Unknown property")
        if len(params) > (1 if method == "GET_PROPERTY" else 2):
            raise BadRequest(2, "Invalid request: too many parameters")
        if method == "GET_PROPERTY":
            return client.combined
        if len(params) != 2 or not isinstance(params[1], bool):
            raise BadRequest(1, "Invalid value type: expected Boolean")
        client.combined = params[1]
        return None
    raise BadRequest(2, f"Invalid request: unknown variant {method!r}, expected one of "
                        "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, "
                        "`GET_PROPERTY`")


async def _refuse(websocket: WebSocket, status: int, code: int, msg: str) -> None:
    """Refuse the handshake with Binance's JSON error body (a plain close where the server
    cannot send an HTTP answer to a WebSocket request)."""
    try:
        await websocket.send_denial_response(
            JSONResponse({"code": code, "msg": msg}, status_code=status))
    except RuntimeError:
        await websocket.close(1008, msg)


async def _sender(client: Client) -> None:
    while True:
        await client.websocket.send_text(await client.queue.get())
        client.queue.task_done()


# A text message -> the text answered, or None once it has closed the connection.
Handle = Callable[[Client, str], Awaitable[str | None]]


async def _control(client: Client, text: str) -> str | None:
    """A market stream's control message (at most `stream_messages_per_second`)."""
    if not await _attempts.hit(_message_limit(), "ws-message", f"{client.ip}:{id(client)}"):
        await close_client(client, 1008, "Too many messages")
        return None
    return json.dumps(handle_message(client, text), separators=(",", ":"))


async def serve_connection(websocket: WebSocket, handle: Handle) -> None:
    """A socket with no streams, whose messages `handle` answers (the WebSocket API), within
    the same connection limits and watcher as the streams."""
    await _serve(websocket, [], combined=False, handle=handle)


async def _serve(websocket: WebSocket, names: list[str], combined: bool,
                 user_id: int | None = None, listen_key: str = "",
                 handle: Handle = _control) -> None:
    ip = client_ip(websocket.scope) or "?"  # behind Caddy: the client's, not the proxy's
    if not await _attempts.hit(_connection_limit(), "ws-connect", ip):
        await _refuse(websocket, 429, -1003, "Too many connection attempts; try again later.")
        return
    if not hub.clients:  # the watcher refreshes the markets only while sockets are open
        await hub.load_symbols()
    if not hub.room_for(ip):  # checked and counted with no await between
        await _refuse(websocket, 429, -1003, "Too many open connections; try again later.")
        return
    client = Client(websocket, combined, ip, user_id, listen_key)
    hub.add(client)  # first, so the watcher keeps tracking while this socket starts
    try:
        try:
            hub.subscribe(client, names)
        except BadRequest as exc:
            await _refuse(websocket, 400, exc.code, str(exc))
            return
        await hub.start_tracking()
        await websocket.accept()
        sender = asyncio.create_task(_sender(client))
        try:
            await _receive(client, handle)
        finally:
            sender.cancel()
    finally:
        hub.remove(client)


async def _receive(client: Client, handle: Handle) -> None:
    while True:
        try:
            text = await client.websocket.receive_text()
        except (WebSocketDisconnect, KeyError, RuntimeError):
            return  # closed, or a binary frame: Binance takes text only
        answer = await handle(client, text)
        if answer is None:
            return
        if not client.put(answer):  # never a silently lost answer (to an order.place...)
            await close_client(client, 1008, "too slow")
            return


async def raw_streams(websocket: WebSocket) -> None:
    """`/ws/<stream>[/<stream>...]`, or `/ws/<listenKey>`: that user's data stream. A path
    with no stream in it (ccxt opens `/ws/0`, `/ws/1`... and subscribes by message) is a
    socket with no streams yet, as on Binance."""
    path = websocket.path_params.get("streams", "")
    if LISTEN_KEY.match(path):
        user_id = await asyncio.to_thread(_listen_key_owner, path)
        if user_id is None:
            await _refuse(websocket, 400, -1125, "This listenKey does not exist.")
            return
        await _serve(websocket, [], combined=False, user_id=user_id, listen_key=path)
        return
    names = [n for n in path.split("/") if n]
    await _serve(websocket, names if any("@" in n for n in names) else [], combined=False)


async def combined_streams(websocket: WebSocket) -> None:
    names = websocket.query_params.get("streams", "")
    await _serve(websocket, [n for n in names.split("/") if n], combined=True)


routes = [
    WebSocketRoute("/ws", raw_streams),
    WebSocketRoute("/ws/{streams:path}", raw_streams),
    WebSocketRoute("/stream", combined_streams),
]
