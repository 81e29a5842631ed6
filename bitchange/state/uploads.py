"""Reading a file the browser uploaded through Reflex's upload endpoint.

Documents are never saved in Reflex's (public) upload folder: the handler reads the bytes and
`documents.storage` checks and writes them to the private folder."""

from __future__ import annotations

import reflex as rx

from bitchange.documents import storage
from bitchange.documents.storage import DocumentError


def read_upload(files: list[rx.UploadFile]) -> bytes:
    """The first uploaded file's bytes, at most one byte over the limit (so an oversized file is
    refused without reading all of it). Starlette spools big uploads to the system temporary
    folder and deletes them after the request; nothing goes to Reflex's public upload folder.
    It reads from disk: handlers call it through `off_loop`."""
    if not files:
        raise DocumentError("Choose a file.")
    return files[0].file.read(storage.max_bytes() + 1)
