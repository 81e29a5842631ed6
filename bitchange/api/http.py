"""What every endpoint shares: parameters, Binance's request signing, rate limits, and the
mapping of any failure to Binance's error body. An endpoint is a plain function of a `Call`,
run off the event loop (its DB and service work blocks)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, unquote_plus  # an Ed25519 signature is percent-encoded

import orjson
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from bitchange import db, ratelimits
from bitchange.accounts import api_keys
from bitchange.api import errors
from bitchange.api.errors import ApiError
from bitchange.api.limits import limiter
from bitchange.api.market import Market
from bitchange.money import MAX_MINOR
from bitchange.web_guard import client_ip

log = logging.getLogger(__name__)
# The endpoints' threads: asyncio's executor hop is lighter than anyio's (`run_in_threadpool`)
# on the order path; as many threads as anyio's default limiter allows.
_WORKERS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="api")
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000


async def off_loop(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` in the endpoints' threads (its DB, Redis and service work blocks)."""
    return await asyncio.get_running_loop().run_in_executor(_WORKERS, fn, *args)


def server_ms() -> int:
    return time.time_ns() // 1_000_000


class Params:
    """The request's parameters (query string and form body), Binance's way: a name repeated
    in one of them is refused, one sent in both is the query string's, an empty value counts
    as not sent."""

    def __init__(self, query: Sequence[tuple[str, str]],
                 body: Sequence[tuple[str, str]] = ()) -> None:
        self.values: dict[str, str] = {}
        for source in (body, query):  # the query string's value replaces the body's
            seen: set[str] = set()
            for name, value in source:
                if name in seen:
                    raise errors.error(errors.DUPLICATE_PARAM)
                seen.add(name)
                self.values[name] = value

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name) or None
        if value is None and required:
            raise errors.mandatory(name)
        return value

    def integer(self, name: str, *, default: int | None = None, lo: int = 0,
                hi: int = MAX_MINOR, required: bool = False) -> int | None:
        value = self.text(name, required=required)
        if value is None:
            return default
        if not value.isascii() or not value.lstrip("-").isdigit():
            raise errors.illegal(name)
        number = int(value)
        if not lo <= number <= hi:
            raise errors.invalid(name)
        return number

    def minor(self, name: str, precision: int, *, required: bool = False) -> int | None:
        """A decimal string in the asset's minor units: too many decimals is -1111."""
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise errors.illegal(name) from None
        if not number.is_finite() or number < 0 or not value.isascii() or "e" in value.lower():
            raise errors.illegal(name)
        scaled = number.scaleb(precision)
        if scaled != scaled.to_integral_value():
            raise errors.too_precise(name)
        if scaled >= MAX_MINOR:
            raise errors.invalid(name)
        return int(scaled)


@dataclass(frozen=True)
class Call:
    params: Params
    ip: str
    caller: api_keys.Caller | None = None
    found_market: Market | None = None  # an authenticated endpoint's `symbol`
    # Set when the key was taken from memory (an endpoint `key_checked_in_command`): the
    # check of the key that the endpoint's service call must make in its own transaction.
    authorize: Callable[[Connection], bool] | None = None
    # The order limit's refusal, for a call that runs over it (`endpoint(over_order_limit=)`).
    order_refusal: ApiError | None = None

    @property
    def user_id(self) -> int:
        assert self.caller is not None
        return self.caller.user_id

    @property
    def market(self) -> Market:
        assert self.found_market is not None
        return self.found_market


def _without_signature(raw: str) -> tuple[str, str | None]:
    """The raw query string or body without its `signature` parameter (what was signed),
    and the signature."""
    kept, signature = [], None
    for part in raw.split("&") if raw else []:
        if part.startswith("signature="):
            signature = part[len("signature="):]
        else:
            kept.append(part)
    return "&".join(kept), signature


_RECV_WINDOW = re.compile(r"^([0-9]{1,5})(?:\.([0-9]{1,3}))?$")
MICROSECONDS_FROM = 10**14  # a timestamp this large is in microseconds (ms reach it in 5138)


def _recv_window_us(params: Params) -> int:
    """recvWindow in microseconds: Binance takes up to three decimals of a millisecond."""
    text = params.text("recvWindow")
    if text is None:
        return DEFAULT_RECV_WINDOW * 1000
    match = _RECV_WINDOW.match(text)
    if match is None:
        raise errors.illegal("recvWindow")
    window = int(match[1]) * 1000 + int((match[2] or "").ljust(3, "0"))
    if not 0 < window <= MAX_RECV_WINDOW * 1000:
        raise errors.invalid("recvWindow")
    return window


def _check_time(params: Params) -> None:
    """Binance's window: timestamp < server + 1000 ms and server - timestamp <= recvWindow;
    the timestamp in milliseconds or microseconds."""
    timestamp = params.integer("timestamp", required=True, hi=2**63 - 1)
    assert timestamp is not None
    timestamp_us = timestamp if timestamp >= MICROSECONDS_FROM else timestamp * 1000
    window_us = _recv_window_us(params)
    now_us = time.time_ns() // 1000
    if timestamp_us >= now_us + 1_000_000:
        raise errors.error(errors.AHEAD)
    if now_us - timestamp_us > window_us:
        raise errors.error(errors.OUTSIDE_WINDOW)


MarketLookup = Callable[[Connection, Params], Market | None]
# Markets as a lookup found them, by (database, lookup, `symbol`): for a call whose key is
# checked in its command, which uses only a market's names and precisions (they never change)
# before the service reads the market's rules itself.
_markets_found: dict[tuple[str, MarketLookup, str | None], Market] = {}


@dataclass(frozen=True)
class Credentials:
    """What a call carries to authenticate, however it arrived: the API key, what was signed
    and the signature (HTTP: the query string and body; the WebSocket API: the sorted
    `params`)."""

    api_key: str
    payload: str = ""
    signature: str | None = None


def http_credentials(request: Request, query: str, body: str) -> Credentials:
    """The `X-MBX-APIKEY` header and the signed part of the query string and body."""
    payload, signature = _signed_part(query, body)
    return Credentials(request.headers.get("x-mbx-apikey", ""), payload,
                       unquote_plus(signature) if signature else None)


def _authenticate(ip: str, credentials: Credentials, params: Params, scope: str, signed: bool,
                  market: MarketLookup | None) -> tuple[api_keys.Caller, Market | None]:
    """The caller and, once it is authenticated, the market `market` looks up: in one read."""
    if signed:
        _check_time(params)
    api_key = credentials.api_key
    with db.read() as conn:
        try:
            caller = api_keys.authenticate(conn, api_key, ip)
        except api_keys.KeyRejected as exc:
            raise errors.error(errors.BAD_KEY_FORMAT if exc.bad_format
                               else errors.REJECTED_KEY, 401) from None
        if signed:
            _check_signature(caller, credentials)
        if scope not in caller.scopes:
            raise errors.error(errors.REJECTED_KEY, 401)
        found = market(conn, params) if market is not None else None
    if found is not None:
        _markets_found[db.current_url(), market, params.text("symbol")] = found  # type: ignore[index]
    if api_keys.use_worth_noting(caller, ip):  # at most once a minute: no write per request
        with db.write() as conn:
            api_keys.note_use(conn, api_key, caller, ip)
    return caller, found


def authenticate_signed(ip: str, credentials: Credentials, params: Params,
                        scope: str) -> api_keys.Caller:
    """The caller of a signed request outside the endpoints (the WebSocket API's user data
    subscription): the time window, the key, the signature and the scope."""
    return _authenticate(ip, credentials, params, scope, True, None)[0]


def _from_memory(ip: str, credentials: Credentials, params: Params, scope: str,
                 market: MarketLookup | None) -> Call | None:
    """A signed call whose key and market this process has read before, without reading them
    again: the signature is checked against the remembered key here, and the key itself
    (revoked, expired, scopes, allowlist, its owner's state) by the command, in its own
    transaction (`Call.authorize`). None when anything is not as remembered, or its use is
    worth recording: then the call is authenticated by a read."""
    api_key = credentials.api_key
    caller = api_keys.remembered(api_key)
    found = (_markets_found.get((db.current_url(), market, params.text("symbol")))
             if market is not None else None)
    if caller is None or (market is not None and found is None) \
            or scope not in caller.scopes or api_keys.use_worth_noting(caller, ip):
        return None
    _check_time(params)
    signature = credentials.signature
    if not signature or not caller.signature_valid(credentials.payload, signature):
        return None
    return Call(params, ip, caller, found,
                lambda conn: api_keys.still_allowed(conn, api_key, caller, ip, scope))


def _signed_part(query: str, body: str) -> tuple[str, str | None]:
    """What was signed (the query string, then the body, without `signature`) and the
    signature."""
    query_part, in_query = _without_signature(query)
    body_part, in_body = _without_signature(body)
    return query_part + body_part, in_query or in_body


def _check_signature(caller: api_keys.Caller, credentials: Credentials) -> None:
    if not credentials.signature:
        raise errors.mandatory("signature")
    if not caller.signature_valid(credentials.payload, credentials.signature):
        raise errors.error(errors.BAD_SIGNATURE)


def _count_request(ip: str) -> None:
    """The app's per-IP limit on every backend route (`RATE_LIMIT_HTTP_IP`), which the request
    guard leaves to the API's endpoints so that it is counted in the same trip off the loop."""
    refusal = ratelimits.hit("http", ip=ip)
    if refusal is not None:
        raise ApiError(-1003, refusal.message, 429, {"Retry-After": str(refusal.retry_after),
                                                     "Cache-Control": "no-store"})


NO_CREDENTIALS = Credentials("")


def _answer(payload: Any, status: int, headers: dict[str, str]) -> Response:
    return Response(orjson.dumps(payload), status_code=status, headers=headers,
                    media_type="application/json")


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Spec:
    """What an endpoint declares, for the OpenAPI description (bitchange.api.openapi)."""

    weight: int | str  # a variable weight: how it is counted
    security: str  # NONE, API_KEY or SIGNED
    scope: str
    counts_order: int


# A request's weight: fixed, or Binance's for its parameters (its docstring says how).
Weight = int | Callable[[Params], int]


def endpoint(weight: Weight, *, security: str = "NONE", scope: str = "read",
             counts_order: int = 0, market: MarketLookup | None = None,
             key_checked_in_command: bool = False,
             over_order_limit: Callable[[Params], bool] | None = None,
             ) -> Callable[[Handler], Callable[[Request], Any]]:
    """An HTTP handler for `fn`: weight and order limits (`counts_order`: how many orders a
    call places), parameters, authentication (`security`: NONE, API_KEY (the key only, as
    userDataStream) or SIGNED; `market`: the lookup of the call's market, done in the
    authentication's read, as `Call.market`; `key_checked_in_command`: `fn` passes
    `Call.authorize` to its one service command, which checks the key in its own transaction,
    so a key and market read before need no read of their own, see `_from_memory`; should
    `fn` refuse the call, the key's own refusal, if any, is what the client sees, as
    without; `over_order_limit(params)`: whether a call over the order limit still runs,
    seeing the refusal as `Call.order_refusal`), then `fn`. All of it runs in one trip off the
    event loop (its DB, Redis and service work blocks). Any failure becomes Binance's error body; an
    unexpected one is -1000 (500), and since every service call is one transaction, nothing
    half-done remains."""

    assert market is None or security != "NONE", "a market is looked up with the key"
    assert not key_checked_in_command or security == "SIGNED"

    def wrap(fn: Handler) -> Callable[[Request], Any]:
        def run(ip: str, params: Params | ApiError, credentials: Credentials,
                what: Callable[[], str]) -> tuple[Any, int, dict[str, str]]:
            """The answer (body, status, headers) to one call of `fn`, however it arrived:
            `params`, or the refusal of a request whose parameters could not be read (it
            still costs its weight, as at Binance); `what()` names the call in the log."""
            headers: dict[str, str] = {}
            try:
                _count_request(ip)
                refusal = params if isinstance(params, ApiError) else None
                if refusal is not None:
                    params = Params(())
                assert isinstance(params, Params)
                cost = weight if isinstance(weight, int) else weight(params)
                headers["X-MBX-USED-WEIGHT-1M"] = str(limiter().spend_weight(ip, cost))
                if refusal is not None:
                    raise refusal
                call = Call(params, ip)
                if key_checked_in_command:
                    call = _from_memory(ip, credentials, params, scope, market) or call
                if security != "NONE" and call.caller is None:
                    caller, found = _authenticate(ip, credentials, params, scope,
                                                  security == "SIGNED", market)
                    call = Call(params, ip, caller, found)
                try:
                    if counts_order:
                        try:
                            headers.update(limiter().spend_order(call.user_id, counts_order))
                        except ApiError as exc:
                            if over_order_limit is None or not over_order_limit(params):
                                raise
                            call = replace(call, order_refusal=exc)
                    return fn(call), 200, headers
                except ApiError:
                    if call.authorize is not None:  # the key's refusal comes first
                        _authenticate(ip, credentials, params, scope, True, market)
                    raise
            except ApiError as exc:
                return exc.body(), exc.status, headers | exc.headers
            except Exception as exc:
                failure = errors.unavailable() if db.is_storage_fault(exc) else errors.unknown()
                log.exception("API %s failed", what())
                return {"code": failure.code, "msg": failure.msg}, failure.status, headers

        def serve(request: Request, raw_body: bytes) -> Response:
            ip = client_ip(request.scope)  # behind Caddy: the client's, not the proxy's
            query = request.scope["query_string"].decode("latin-1")
            body = raw_body.decode("utf-8", "replace")
            params: Params | ApiError
            try:
                params = Params(parse_qsl(query, keep_blank_values=True),
                                parse_qsl(body, keep_blank_values=True))
            except ApiError as exc:
                params = exc
            credentials = (http_credentials(request, query, body) if security != "NONE"
                           else NO_CREDENTIALS)
            def what() -> str:  # for the log only
                return f"{request.method} {request.url.path}"

            body, status, headers = run(ip, params, credentials, what)
            try:
                return _answer(body, status, headers)
            except TypeError:  # a body orjson cannot encode: a bug, answered as one
                log.exception("API %s: answer not serialisable", what())
                return _answer(errors.unknown().body(), 500, headers)

        async def handler(request: Request) -> Response:
            return await off_loop(serve, request, await request.body())

        handler.__name__, handler.__qualname__ = fn.__name__, fn.__qualname__
        handler.__doc__ = fn.__doc__
        described = weight if isinstance(weight, int) else " ".join(
            (weight.__doc__ or "").split())
        handler.spec = Spec(described, security, scope, counts_order)  # type: ignore[attr-defined]
        handler.run = run  # type: ignore[attr-defined]  # for the WebSocket API (bitchange.api.ws_api)
        return handler

    return wrap
