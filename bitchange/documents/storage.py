"""Storing and reading private files. Nothing here logs a file's content or its uploader."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert, select

from bitchange.clock import now
from bitchange.config import get_settings
from bitchange.documents.tables import PrivateFile

_files = PrivateFile.__table__

PURPOSES = ("kyc", "support")
# Accepted types, recognised from the first bytes of the content (never the name or the
# browser's claimed type).
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


class DocumentError(ValueError):
    """A refused file; the message is safe to show."""


@dataclass(frozen=True)
class StoredFile:
    id: int
    token: str
    purpose: str
    owner_id: int
    content_type: str
    size: int

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def max_bytes() -> int:
    return get_settings().document_max_bytes


def sniff(data: bytes) -> str | None:
    """The content type of `data` from its magic bytes, or None if it is not accepted."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    return None


def check(data: bytes) -> str:
    """The content type, or a refusal: empty, too large, or not JPEG/PNG/PDF."""
    limit = max_bytes()
    if not data:
        raise DocumentError("The file is empty.")
    if len(data) > limit:
        raise DocumentError(f"The file is too large: at most {limit // 1_000_000} MB "
                            f"({limit:,} bytes).")
    content_type = sniff(data)
    if content_type is None:
        raise DocumentError("Only JPEG or PNG images and PDF documents are accepted.")
    return content_type


def _folder(purpose: str) -> Path:
    folder = get_settings().private_dir / purpose
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _path(purpose: str, token: str) -> Path:
    if purpose not in PURPOSES or not token or not token.replace("-", "").replace(
            "_", "").isalnum():
        raise DocumentError("Unknown file.")
    return get_settings().private_dir / purpose / token


def store(conn: Connection, *, purpose: str, owner_id: int, data: bytes) -> StoredFile:
    """Check `data`, write it under a new random name (owner-only permissions), index it."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    content_type = check(data)
    token = secrets.token_urlsafe(32)
    folder = _folder(purpose)
    temporary = folder / f".{token}.part"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, folder / token)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    file_id = conn.execute(insert(_files).values(
        token=token, purpose=purpose, owner_id=owner_id, content_type=content_type,
        size=len(data), sha256=hashlib.sha256(data).hexdigest(), created_at=now(),
    )).inserted_primary_key[0]
    return StoredFile(file_id, token, purpose, owner_id, content_type, len(data))


def _stored(row) -> StoredFile:  # type: ignore[no-untyped-def]
    return StoredFile(row.id, row.token, row.purpose, row.owner_id, row.content_type, row.size)


def get(conn: Connection, file_id: int) -> StoredFile | None:
    row = conn.execute(select(_files).where(_files.c.id == file_id)).first()
    return _stored(row) if row else None


def by_token(conn: Connection, token: str) -> StoredFile | None:
    if not token or len(token) > 64:
        return None
    row = conn.execute(select(_files).where(_files.c.token == token)).first()
    return _stored(row) if row else None


def read_bytes(stored: StoredFile) -> bytes:
    return _path(stored.purpose, stored.token).read_bytes()


def url(stored_or_token: StoredFile | str) -> str:
    """Where the authorised route serves the file (relative to the site)."""
    from bitchange import routes

    token = stored_or_token if isinstance(stored_or_token, str) else stored_or_token.token
    return routes.document(token)
