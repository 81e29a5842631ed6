"""Storing and reading private files. Nothing here logs a file's content or its uploader.

A user's upload stays unsent until a KYC submission or a support message takes it: each user may
have only `UPLOAD_PENDING_MAX` unsent uploads, may upload only `UPLOAD_RATE_LIMIT` files (per
user; bitchange.ratelimits, counted in Redis when it is configured, so across workers), and a
scheduled job removes unsent uploads after `UNSENT_LIFETIME`, rows and files.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, Connection, and_, delete, exists, func, insert, select

from bitchange import db, ratelimits, routes
from bitchange.clock import now
from bitchange.config import get_settings
from bitchange.documents.tables import PrivateFile
from bitchange.kyc.tables import KycDocument
from bitchange.support.tables import SupportMessage

_files = PrivateFile.__table__
_kyc_documents = KycDocument.__table__
_messages = SupportMessage.__table__
UNSENT_LIFETIME = timedelta(hours=1)

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
    token = stored_or_token if isinstance(stored_or_token, str) else stored_or_token.token
    return routes.document(token)


# --- a user's uploads: unsent until a submission or a message takes them --------------------


def _unsent() -> ColumnElement[bool]:
    return and_(~exists().where(_kyc_documents.c.file_id == _files.c.id),
                ~exists().where(_messages.c.attachment_id == _files.c.id))


def unsent_count(conn: Connection, owner_id: int) -> int:
    return conn.scalar(select(func.count()).select_from(_files).where(
        _files.c.owner_id == owner_id, _unsent()))


def _take_unsent(conn: Connection, owner_id: int, file_id: int) -> StoredFile | None:
    """Delete the index row of one of the owner's unsent uploads; the file is removed after
    the commit (by `_remove`)."""
    row = conn.execute(delete(_files).where(_files.c.id == file_id,
                                            _files.c.owner_id == owner_id, _unsent())
                       .returning(*_files.c)).first()
    return _stored(row) if row else None


def _remove(stored: StoredFile) -> None:
    _path(stored.purpose, stored.token).unlink(missing_ok=True)


def upload(owner_id: int, purpose: str, data: bytes, *,
           replacing: int | None = None, ip: str = "") -> StoredFile:
    """Store a user's upload (in its own transaction), within their rate limit and their
    quota of unsent uploads; `replacing`, an earlier unsent upload of theirs, is removed."""
    ratelimits.check("upload", DocumentError, ip=ip, account=owner_id)
    limit = get_settings().upload_pending_max
    with db.write() as conn:
        replaced = _take_unsent(conn, owner_id, replacing) if replacing is not None else None
        if unsent_count(conn, owner_id) >= limit:
            raise DocumentError(f"You have {limit} uploads not sent yet: send them with your "
                                "form or ticket first (unsent uploads are removed after an "
                                "hour).")
        stored = store(conn, purpose=purpose, owner_id=owner_id, data=data)
    if replaced is not None:
        _remove(replaced)
    return stored


def discard(owner_id: int, file_id: int) -> None:
    """Remove one of the owner's unsent uploads (the user took it off the form)."""
    with db.write() as conn:
        removed = _take_unsent(conn, owner_id, file_id)
    if removed is not None:
        _remove(removed)


def remove_stale_uploads() -> tuple[int, int]:
    """(unsent uploads, stray files) removed: uploads older than `UNSENT_LIFETIME` that no
    submission or message took, rows and files; and files that have no row as old (written by
    an upload whose transaction then failed, e.g. on a full disk)."""
    cutoff = now() - UNSENT_LIFETIME
    with db.write() as conn:
        rows = conn.execute(delete(_files).where(_files.c.created_at < cutoff, _unsent())
                            .returning(*_files.c)).all()
    for row in rows:
        _remove(_stored(row))
    with db.read() as conn:
        known = set(conn.scalars(select(_files.c.token)))
    stray = 0
    for purpose in PURPOSES:
        folder = get_settings().private_dir / purpose
        for path in folder.iterdir() if folder.is_dir() else ():
            # Only old files: a file written just now may have its row committed next.
            if path.name not in known and path.stat().st_mtime < cutoff.timestamp():
                path.unlink(missing_ok=True)
                stray += 1
    return len(rows), stray
