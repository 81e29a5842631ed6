"""Backend HTTP routes mounted beside the Reflex app: the session cookie and health."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from bitchange import db, routes
from bitchange.accounts.sessions import (
    activate_session,
    cookie_name,
    resolve_session,
    revoke_token,
    token_from_cookie_header,
)
from bitchange.api.app import PATHS as API_PATHS
from bitchange.api.app import Dispatch
from bitchange.api.app import routes as api_routes
from bitchange.api.streams import routes as stream_routes
from bitchange.api.ws_api import routes as ws_api_routes
from bitchange.config import PROJECT_ROOT, get_settings
from bitchange.documents.http import serve_document
from bitchange.ops.health import health_report
from bitchange.privacy import service as privacy
from bitchange.web_guard import RequestGuard, metrics_endpoint

log = logging.getLogger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]


def _storage_guarded(endpoint: Endpoint) -> Endpoint:
    """A storage fault (disk full, read-only or unreachable database) is answered with a plain
    503 that says nothing was changed (the transaction rolled back), not a traceback."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except Exception as exc:
            if not db.is_storage_fault(exc):
                raise
            log.error("%s: storage fault: %s", request.url.path, exc)
            return PlainTextResponse(db.STORAGE_UNAVAILABLE, status_code=503,
                                     headers={"Cache-Control": "no-store", "Retry-After": "30"})

    return guarded


def _no_store(response: RedirectResponse) -> RedirectResponse:
    response.headers["Cache-Control"] = "no-store"
    return response


def _same_site(request: Request, *, typed_ok: bool = False) -> bool:
    """Whether this navigation comes from our own pages. The login ticket and logout are only
    ever reached by our own script (`window.location.assign`); from another site they would
    be login/logout CSRF (e.g. logging a victim into the attacker's account). `typed_ok` also
    accepts an address typed or opened from outside any site (harmless for logout, never for
    a login ticket, which could arrive in a phishing link)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin" or (typed_ok and fetch_site == "none")
    referer = request.headers.get("referer", "")
    return bool(referer) and urlsplit(referer).netloc == request.headers.get("host", "")


def _activate(ticket: str) -> str | None:
    with db.write() as conn:
        return activate_session(conn, ticket)


def _revoke(token: str) -> None:
    with db.write() as conn:
        revoke_token(conn, token)


async def session_from_ticket(request: Request) -> RedirectResponse:
    ticket = request.query_params.get("ticket", "")
    target = routes.safe_next(request.query_params.get("next"))
    if not _same_site(request):
        return _no_store(RedirectResponse(routes.login(target), status_code=303))
    token = await run_in_threadpool(_activate, ticket) if ticket else None
    if token is None:
        return _no_store(RedirectResponse(routes.login(target), status_code=303))
    settings = get_settings()
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        cookie_name(), token, max_age=settings.session_absolute_hours * 3600, path="/",
        httponly=True, secure=settings.cookie_secure, samesite="lax",
    )
    return _no_store(response)


async def logout(request: Request) -> RedirectResponse:
    token = token_from_cookie_header(request.headers.get("cookie", ""))
    if not _same_site(request, typed_ok=True):
        return _no_store(RedirectResponse(routes.HOME, status_code=303))
    if token:
        await run_in_threadpool(_revoke, token)
    response = RedirectResponse(routes.HOME, status_code=303)
    response.delete_cookie(cookie_name(), path="/", secure=get_settings().cookie_secure,
                           httponly=True, samesite="lax")
    return _no_store(response)


async def healthz(request: Request) -> JSONResponse:
    """Database reachable (else 503), a write can commit, disk space, scheduler alive, age of
    the last good backup. With `?strict=1` a degraded state (cannot commit, low disk space,
    stale backup, no live scheduler) is a 503 too, for monitors."""
    reachable, report = await run_in_threadpool(health_report)
    strict = request.query_params.get("strict") in ("1", "true")
    healthy = reachable and (report["status"] == "ok" or not strict)
    return JSONResponse(report, status_code=200 if healthy else 503,
                        headers={"Cache-Control": "no-store"})


def _export(cookie_header: str) -> dict | None:
    with db.read() as conn:
        user = resolve_session(conn, token_from_cookie_header(cookie_header))
        return None if user is None else privacy.export(conn, user.user_id)


async def export_data(request: Request) -> Response:
    """The signed-in user's data export (bitchange.privacy), as a JSON download."""
    data = await run_in_threadpool(_export, request.headers.get("cookie", ""))
    headers = {"Cache-Control": "no-store, private", "X-Content-Type-Options": "nosniff"}
    if data is None:
        return PlainTextResponse("Log in to download your data.", status_code=401,
                                 headers=headers)
    return JSONResponse(data, headers={
        **headers, "Content-Disposition": 'attachment; filename="bitchange-data.json"'})


async def api_docs(request: Request) -> PlainTextResponse:
    """docs/api.md as the repository has it (Markdown, readable as text)."""
    text = await run_in_threadpool((PROJECT_ROOT / "docs" / "api.md").read_text, "utf-8")
    return PlainTextResponse(text, headers={"Cache-Control": "public, max-age=300"})


def _repository_text(*path: str, media_type: str = "text/plain"):  # type: ignore[no-untyped-def]
    """An endpoint serving one file of the repository as it is (documentation, a script)."""
    async def serve(request: Request) -> PlainTextResponse:
        text = await run_in_threadpool(PROJECT_ROOT.joinpath(*path).read_text, "utf-8")
        return PlainTextResponse(text, media_type=media_type,
                                 headers={"Cache-Control": "public, max-age=300"})
    return serve


api = Starlette(routes=[
    Route(routes.AUTH_SESSION, _storage_guarded(session_from_ticket), methods=["GET"]),
    Route(routes.AUTH_LOGOUT, _storage_guarded(logout), methods=["GET", "POST"]),
    Route(routes.HEALTHZ, _storage_guarded(healthz), methods=["GET"]),
    Route(routes.METRICS, metrics_endpoint, methods=["GET"]),
    Route(routes.DOCUMENTS, _storage_guarded(serve_document), methods=["GET"]),
    Route(routes.ACCOUNT_EXPORT, _storage_guarded(export_data), methods=["GET"]),
    Route(routes.API_DOCS, api_docs, methods=["GET"]),
    Route(routes.PROOF_FORMAT, _repository_text("docs", "proof-of-liabilities.md"),
          methods=["GET"]),
    Route(routes.PROOF_VERIFIER, _repository_text("tools", "verify_liabilities.py",
                                                  media_type="text/x-python"), methods=["GET"]),
    *api_routes,  # /api/v3 and /sapi/v1 (bitchange.api.app)
    *stream_routes,  # Binance-compatible market streams: /ws/<stream>, /stream?streams=
    *ws_api_routes,  # Binance's WebSocket API: /ws-api/v3
])
# Outermost first: rate limits on every backend route and the request metrics
# (bitchange/web_guard.py), then the API's endpoints straight from their table.
api.add_middleware(Dispatch)
api.add_middleware(RequestGuard, counted_inside=API_PATHS)
