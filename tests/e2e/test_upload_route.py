"""Reflex's `/_upload` endpoint, called by a program rather than the page: a request naming a
handler that takes no files, or sending `files` as a text field, is a 400 (Reflex alone answers
500), and a real attachment through the same route still works."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid

from bitchange.state.support import SupportState
from tests.e2e.extras_helpers import png


def _post_upload(app, handler: str, parts: list[tuple[str, str | None, bytes]]) -> int:  # type: ignore[no-untyped-def]
    boundary = uuid.uuid4().hex
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"\r\nContent-Type: image/png'
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(  # noqa: S310 - the local app under test
        app.url + "/_upload", data=body, method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                 "reflex-client-token": str(uuid.uuid4()), "reflex-event-handler": handler})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_handler_without_files_is_a_bad_request(app):
    handler = f"{SupportState.get_full_name()}.load"
    assert _post_upload(app, handler, [("files", "a.png", png())]) == 400


def test_files_sent_as_text_are_a_bad_request(app):
    handler = f"{SupportState.get_full_name()}.attach"
    assert _post_upload(app, handler, [("files", None, b"not a file")]) == 400


def test_an_unknown_handler_is_a_bad_request(app):
    assert _post_upload(app, "no.such.handler", [("files", "a.png", png())]) == 400


def test_a_real_upload_still_reaches_its_handler(app):
    handler = f"{SupportState.get_full_name()}.attach"
    assert _post_upload(app, handler, [("files", "a.png", png())]) == 200
