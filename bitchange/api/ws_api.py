"""Binance's WebSocket API at /ws-api/v3 (web-socket-api.md): one JSON request per text frame,
`{"id", "method", "params"}`, answered `{"id", "status", "result"}` or `{"id", "status",
"error": {"code", "msg"}}`, with `rateLimits`.

- The user data stream by signature (`userDataStream.subscribe.signature`: `apiKey`,
  `timestamp`, `signature` over the params sorted by name, as Binance signs WebSocket API
  requests), `userDataStream.unsubscribe` and `session.subscriptions`. This is how Binance,
  and ccxt.pro 4.5's `watch_orders`, `watch_balance` and `watch_my_trades`, follow an account:
  each event arrives as `{"subscriptionId": n, "event": {...}}`, from the same watcher as the
  listenKey streams (bitchange.api.streams), and a subscription whose key lapses (revoked,
  frozen owner...) ends with `eventStreamTerminated`.
- Every other method is the REST endpoint of the same name (`REST_METHODS`: `order.place` is
  `POST /api/v3/order`), run by that endpoint's own code (`http.endpoint`): the same
  parameters, weights, order counts, answers and error codes, and so the same service calls
  as the screen.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from bitchange import db
from bitchange.accounts import api_keys
from bitchange.api import errors
from bitchange.api.app import OPERATIONS
from bitchange.api.errors import ApiError
from bitchange.api.http import Credentials, Params, authenticate_signed, off_loop
from bitchange.api.limits import limiter
from bitchange.api.stream_events import now_ms
from bitchange.api.streams import Client, close_client, hub, serve_connection
from bitchange.routes import WS_API_V3

# Binance's method names -> the REST endpoint that answers them.
REST_METHODS: dict[str, tuple[str, str]] = {
    "ping": ("GET", "/ping"), "time": ("GET", "/time"),
    "exchangeInfo": ("GET", "/exchangeInfo"), "depth": ("GET", "/depth"),
    "trades.recent": ("GET", "/trades"), "trades.historical": ("GET", "/historicalTrades"),
    "trades.aggregate": ("GET", "/aggTrades"), "klines": ("GET", "/klines"),
    "uiKlines": ("GET", "/uiKlines"), "avgPrice": ("GET", "/avgPrice"),
    "ticker.24hr": ("GET", "/ticker/24hr"), "ticker": ("GET", "/ticker"),
    "ticker.price": ("GET", "/ticker/price"), "ticker.book": ("GET", "/ticker/bookTicker"),
    "account.status": ("GET", "/account"), "account.commission": ("GET", "/account/commission"),
    "order.place": ("POST", "/order"), "order.test": ("POST", "/order/test"),
    "order.status": ("GET", "/order"), "order.cancel": ("DELETE", "/order"),
    "order.cancelReplace": ("POST", "/order/cancelReplace"),
    "openOrders.status": ("GET", "/openOrders"), "openOrders.cancelAll": ("DELETE", "/openOrders"),
    "allOrders": ("GET", "/allOrders"), "myTrades": ("GET", "/myTrades"),
    "orderList.place.oco": ("POST", "/orderList/oco"), "orderList.status": ("GET", "/orderList"),
    "orderList.cancel": ("DELETE", "/orderList"),
    "openOrderLists.status": ("GET", "/openOrderList"),
}
_HANDLERS = {(op.method, op.path): op.handler for op in OPERATIONS}
log = logging.getLogger(__name__)
MAX_SUBSCRIPTIONS = 1_000  # active on one connection, as Binance
MAX_SUBSCRIPTIONS_MADE = 65_535  # over a connection's life, as Binance
SESSION_WEIGHT = 2  # Binance's weight of the subscription methods
MAX_REQUEST_CHARS = 65_536  # a longer frame closes the connection (1009) before it is parsed


@dataclass(eq=False)
class Subscription(Client):
    """One account's events on a WebSocket API connection, each wrapped with the
    subscription's id and written to the connection's own queue."""

    connection: Client | None = None
    subscription_id: int = 0
    api_key: str = ""
    closes_when_ended = False  # the connection stays open; only this subscription ends

    def put(self, text: str) -> bool:
        assert self.connection is not None
        return self.connection.put(f'{{"subscriptionId":{self.subscription_id},"event":{text}}}')

    def still_live(self, conn: Connection) -> bool:
        try:
            caller = api_keys.authenticate(conn, self.api_key, self.ip)
        except api_keys.KeyRejected:
            return False
        return caller.user_id == self.user_id and "read" in caller.scopes

    def ended_event(self) -> dict[str, object]:
        return {"e": "eventStreamTerminated", "E": now_ms()}

    def detach(self) -> None:
        assert self.connection is not None
        self.connection.subscriptions.pop(self.subscription_id, None)


def _text(value: object) -> str:
    """A JSON parameter as the REST endpoints and the signature read it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def _credentials(params: dict[str, Any]) -> Credentials:
    """`apiKey` and the signature over every other parameter, sorted by name."""
    signature = params.get("signature")
    payload = "&".join(f"{name}={_text(value)}" for name, value in sorted(params.items())
                       if name != "signature")
    return Credentials(_text(params.get("apiKey")), payload,
                       _text(signature) if signature is not None else None)


def _rate_limits(headers: dict[str, str]) -> list[dict[str, object]]:
    """What the REST answer's headers count, in Binance's `rateLimits` shape."""
    counts = {("REQUEST_WEIGHT", "MINUTE"): headers.get("X-MBX-USED-WEIGHT-1M"),
              ("ORDERS", "SECOND"): headers.get("X-MBX-ORDER-COUNT-10S"),
              ("ORDERS", "DAY"): headers.get("X-MBX-ORDER-COUNT-1D")}
    return [limit | {"count": int(count)} for limit in limiter().rate_limits()
            if (count := counts[limit["rateLimitType"], limit["interval"]]) is not None]


def _weight(ip: str, weight: int) -> dict[str, str]:
    """Spend a request's weight (a refusal carries its own headers)."""
    return {"X-MBX-USED-WEIGHT-1M": str(limiter().spend_weight(ip, weight))}


def _subscriber(ip: str, params: dict[str, Any]) -> tuple[int, dict[str, str]]:
    """The account whose key signed `userDataStream.subscribe.signature`, and the weight."""
    headers = _weight(ip, SESSION_WEIGHT)
    try:
        caller = authenticate_signed(ip, _credentials(params), _params(params), "read")
    except ApiError as exc:
        exc.headers = headers | exc.headers  # the weight it spent, in its `rateLimits`
        raise
    return caller.user_id, headers


def _params(params: dict[str, Any]) -> Params:
    return Params([(name, _text(value)) for name, value in params.items()])


async def _answer(connection: Client, method: str, params: dict[str, Any]) -> tuple[
        Any, int, dict[str, str]]:
    if method in ("userDataStream.subscribe.signature", "userDataStream.unsubscribe",
                  "session.subscriptions"):
        return await _session_method(connection, method, params)
    where = REST_METHODS.get(method)
    if where is None:
        raise ApiError(-1020, "This operation is not supported.",
                       headers=await off_loop(_weight, connection.ip, 1))
    run = _HANDLERS[where].run  # type: ignore[attr-defined]
    return await off_loop(run, connection.ip, _params(params), _credentials(params),
                          lambda: f"WebSocket API {method}")


async def _session_method(connection: Client, method: str,
                          params: dict[str, Any]) -> tuple[Any, int, dict[str, str]]:
    if method != "userDataStream.subscribe.signature":
        headers = await off_loop(_weight, connection.ip, SESSION_WEIGHT)
    if method == "session.subscriptions":
        return [{"subscriptionId": n} for n in sorted(connection.subscriptions)], 200, headers
    if method == "userDataStream.unsubscribe":
        wanted = params.get("subscriptionId")
        if wanted is not None and (isinstance(wanted, bool) or not isinstance(wanted, int)):
            refusal = errors.illegal("subscriptionId")
            refusal.headers = headers
            raise refusal
        if wanted is not None and wanted not in connection.subscriptions:
            raise ApiError(-2036, "User Data Stream subscription not active.", headers=headers)
        for number in [wanted] if wanted is not None else list(connection.subscriptions):
            hub.remove(connection.subscriptions[number])
        return {}, 200, headers
    user_id, headers = await off_loop(_subscriber, connection.ip, params)
    if any(s.user_id == user_id for s in connection.subscriptions.values()):
        raise ApiError(-2035, "User Data Stream subscription already active.", headers=headers)
    if len(connection.subscriptions) >= MAX_SUBSCRIPTIONS:
        raise ApiError(-1191, f"Too many subscriptions. Connection may create up to "
                              f"'{MAX_SUBSCRIPTIONS}' subscriptions at a time.", headers=headers)
    number = connection.subscriptions_made
    if number >= MAX_SUBSCRIPTIONS_MADE:
        raise ApiError(-2042, "Maximum subscription ID reached for this connection.",
                       headers=headers)
    subscription = Subscription(connection.websocket, False, connection.ip, user_id,
                                connection=connection, subscription_id=number,
                                api_key=_text(params.get("apiKey")))
    connection.subscriptions[number] = subscription
    connection.subscriptions_made = number + 1
    hub.follow_user(subscription)
    return {"subscriptionId": number}, 200, headers


def _request_id(message: dict[str, Any]) -> object:
    """Binance's `id`: an integer, a string of at most 36 characters, or null."""
    rid = message.get("id")
    if rid is None or (isinstance(rid, int) and not isinstance(rid, bool)) or (
            isinstance(rid, str) and len(rid) <= 36):
        return rid
    raise errors.illegal("id")


async def handle(connection: Client, text: str) -> str | None:
    """The answer to one request, as its own text frame (None: the connection is closed)."""
    if len(text) > MAX_REQUEST_CHARS:
        await close_client(connection, 1009, "Request too large")
        return None
    rid: object = None
    quiet = False
    try:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise ApiError(-1135, "Invalid JSON Request",
                           headers=await off_loop(_weight, connection.ip, 1))
        rid = _request_id(message)
        method = message.get("method")
        params = message.get("params", {})
        if not isinstance(method, str) or not method:
            raise errors.mandatory("method")
        if not isinstance(params, dict):
            raise ApiError(-1135, "JSON sent for parameter 'params' is not valid")
        quiet = _text(params.get("returnRateLimits")) == "false"  # Binance's opt-out
        body, status, headers = await _answer(connection, method.removeprefix("v3/"), params)
    except ApiError as exc:
        body, status, headers = exc.body(), exc.status, exc.headers
    except Exception as exc:  # a storage fault or a bug: an answer, not a dead connection
        failure = errors.unavailable() if db.is_storage_fault(exc) else errors.unknown()
        log.exception("WebSocket API request failed")
        body, status, headers = failure.body(), failure.status, {}
    answer: dict[str, Any] = {"id": rid, "status": status}
    if status == 200:
        answer["result"] = body
    else:
        answer["error"] = body
    limits = [] if quiet else _rate_limits(headers)
    if limits:
        answer["rateLimits"] = limits
    try:
        return json.dumps(answer, separators=(",", ":"))
    except (TypeError, ValueError):  # a body that is not JSON: a bug, answered as one
        log.exception("WebSocket API answer not serialisable")
        return json.dumps({"id": rid, "status": 500, "error": errors.unknown().body()},
                          separators=(",", ":"))


async def ws_api(websocket: WebSocket) -> None:
    await serve_connection(websocket, handle)


routes = [WebSocketRoute(WS_API_V3, ws_api)]
