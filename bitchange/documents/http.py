"""The only way to fetch a private file: `GET /documents/{token}`.

Admins (with 2FA on and, under ADMIN_REQUIRE_PASSKEY, a passkey: the admin area's rule,
`CurrentUser.acts_as_admin`) may fetch any file, and each such view is written to
the audit log (a view that cannot be recorded is not served); a user may fetch a support
attachment on a message they can see of their own ticket; everyone else gets a 404 (the same
answer as for a file that does not exist). Responses are never cached.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bitchange import db
from bitchange.accounts import audit
from bitchange.accounts.sessions import resolve_session, token_from_cookie_header
from bitchange.documents import storage
from bitchange.support.service import attachment_visible_to

_HEADERS = {
    "Cache-Control": "no-store, private",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _fetch(cookie_header: str, token: str, ip: str) -> tuple[storage.StoredFile, bytes] | None:
    with db.read() as conn:
        user = resolve_session(conn, token_from_cookie_header(cookie_header))
        if user is None:
            return None
        stored = storage.by_token(conn, token)
        if stored is None:
            return None
        as_staff = user.acts_as_admin
        allowed = as_staff or (stored.purpose == "support"
                               and attachment_visible_to(conn, stored.id, user.user_id))
    if not allowed:
        return None
    try:
        data = storage.read_bytes(stored)
    except OSError:
        return None
    if as_staff:  # every look at someone's private document by staff is on the record
        with db.write() as conn:
            audit.record(conn, user.user_id, "document_view",
                         f"{stored.purpose} file {stored.id}", ip=ip,
                         detail=f"owner user {stored.owner_id}")
    return stored, data


async def serve_document(request: Request) -> Response:
    found = await run_in_threadpool(_fetch, request.headers.get("cookie", ""),
                                    request.path_params.get("token", ""),
                                    request.client.host if request.client else "")
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain",
                        headers=_HEADERS)
    stored, data = found
    extension = storage.EXTENSIONS[stored.content_type]
    headers = {**_HEADERS,
               "Content-Disposition": f'inline; filename="document-{stored.id}.{extension}"'}
    if stored.content_type.startswith("image/"):
        headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return Response(data, media_type=stored.content_type, headers=headers)
