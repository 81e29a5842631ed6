"""What every backend request passes (ASGI middleware around the backend app, Reflex's event
socket and upload included): the per-IP limit on backend routes (`RATE_LIMIT_HTTP_IP`, 429 with
Retry-After) and the request metrics by route template and status. And `GET /metrics`.

The compiled frontend's static files (served by Caddy's static node in the several-node setup),
`/healthz` and `/metrics` are not rate limited: monitors and health checks come from one address.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bitchange import ratelimits, routes
from bitchange.config import get_settings
from bitchange.ops import metrics

STATIC = "/*"  # the frontend's files, under the mount at "/"
NOT_LIMITED = frozenset({STATIC, routes.HEALTHZ, routes.METRICS})


def client_ip(scope: Scope) -> str:
    """The caller's address: the socket's, or X-Forwarded-For's entry written by the trusted
    proxies (`trusted_proxy_hops`, which rxconfig also gives Reflex for the event socket)."""
    ip = scope["client"][0] if scope.get("client") else ""
    hops = get_settings().trusted_proxy_hops
    if hops:
        forwarded = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                          if k == b"x-forwarded-for"), "")
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            ip = chain[-hops]
    return ip


def route_of(candidates: Iterable[BaseRoute], scope: Scope) -> str:
    """The template of the route that serves `scope` ("/documents/{token}", not the path), so
    that metrics have a bounded set of labels."""
    for route in candidates:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            inner = route.routes
            if not inner:
                return f"{route.path}/*"
            found = route_of(inner, {**scope, **child})
            return route.path + found if found != "other" else found
        return getattr(route, "path", "other")
    return "other"


async def _refuse(scope: Scope, send: Send, refusal: ratelimits.Refusal) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": "Too many requests"})
        return
    if scope["path"].startswith((routes.API_V3, routes.SAPI_V1)):  # Binance's, for programs
        body = json.dumps({"code": -1003, "msg": refusal.message}).encode()
        kind = b"application/json"
    else:
        body, kind = refusal.message.encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", kind), (b"retry-after", str(refusal.retry_after).encode()),
        (b"cache-control", b"no-store"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """`counted_inside`: route templates whose endpoints count the per-IP limit themselves, in
    the same trip off the event loop as their work (the trader API: one thread hop per
    request instead of two)."""

    def __init__(self, app: ASGIApp, counted_inside: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.not_counted = NOT_LIMITED | counted_inside
        self._static_routes: dict[tuple[str, str], str] = {}

    def _route(self, scope: Scope) -> str:
        """`route_of`, remembered for the paths that are their own template (no parameters)."""
        key = (scope["type"], scope["path"])
        route = self._static_routes.get(key)
        if route is None:
            owner = scope.get("app")
            route = route_of(owner.routes, scope) if owner is not None else "other"
            if route == scope["path"] and len(self._static_routes) < 1024:
                self._static_routes[key] = route
        return route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        route = self._route(scope)
        method = scope.get("method", "WS")
        elapsed = metrics.timer()
        if route not in self.not_counted:
            refusal = await run_in_threadpool(ratelimits.hit, "http", ip=client_ip(scope))
            if refusal is not None:
                await _refuse(scope, send, refusal)
                metrics.HTTP_REQUESTS.labels(route, method, "429").inc()
                return
        status = ""

        async def observed(message: Message) -> None:
            nonlocal status
            if not status:
                kind = message["type"]
                if kind == "http.response.start":
                    status = str(message["status"])
                elif kind == "websocket.accept":
                    status = "101"
                elif kind in ("websocket.close", "websocket.http.response.start"):
                    status = str(message.get("status", 403))
                if status:
                    metrics.HTTP_REQUESTS.labels(route, method, status).inc()
                    metrics.HTTP_SECONDS.labels(route).observe(elapsed())
            await send(message)

        try:
            await self.app(scope, receive, observed)
        except Exception:
            if not status:
                metrics.HTTP_REQUESTS.labels(route, method, "500").inc()
            raise


def _metrics_allowed(request: Request) -> bool:
    token = get_settings().metrics_token
    if token:
        offered = request.headers.get("authorization", "")
        return hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())
    return "x-forwarded-for" not in request.headers  # came through a proxy: not for us


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus's scrape: for the monitoring network only (see `_metrics_allowed`)."""
    if not _metrics_allowed(request):
        return Response("Not Found", status_code=404, media_type="text/plain")
    body = await run_in_threadpool(metrics.render)
    return Response(body, media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})
