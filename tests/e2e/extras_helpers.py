"""Shared pieces of the verification, staking and support journeys."""

from __future__ import annotations

import struct
import zlib

from playwright.sync_api import Page

from bitchange.demo import DEMO_ADMIN_TOTP_SECRET, DEMO_PASSWORD
from tests.e2e.conftest import log_in

ALICE = "alice@demo.bitchange.local"
BOB = "bob@demo.bitchange.local"
ADMIN = "admin@demo.bitchange.local"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def png(width: int = 8, height: int = 8) -> bytes:
    """A small valid PNG (a browser renders it), built without an imaging library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\xf5\xa6\x23" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def upload(page: Page, zone_id: str, name: str, mime: str, data: bytes) -> None:
    page.set_input_files(f"#{zone_id} input[type=file]",
                         files=[{"name": name, "mimeType": mime, "buffer": data}])


def log_in_admin(page: Page, app) -> None:  # type: ignore[no-untyped-def]
    log_in(page, app, ADMIN, DEMO_PASSWORD, totp_secret=DEMO_ADMIN_TOTP_SECRET)


def log_in_trader(page: Page, app, email: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, app, email, DEMO_PASSWORD)
