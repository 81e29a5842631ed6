"""Shared pieces of the verification, staking and support journeys."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib

from playwright.sync_api import Page

from bitchange.config import PROJECT_ROOT
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


# Rewards and promotions are funded only from collected fees: a journey that funds them first
# has two demo traders trade through the real order service (against the app's database, as
# the daily accrual CLI does), so the exchange earns a fee.
_FEE_TRADE = """
import sys
from bitchange import db
from bitchange.accounts.users import get_user_by_email
from bitchange.trading.service import OrderRequest, place_order

seller, buyer, symbol, price, quantity = sys.argv[1:6]
with db.read() as conn:
    ids = [get_user_by_email(conn, email).id for email in (seller, buyer)]
for user_id, side in zip(ids, ("SELL", "BUY"), strict=True):
    placed = place_order(user_id, symbol, OrderRequest(side=side, kind="limit", price=int(price),
                                                       quantity=int(quantity)))
print(placed.status, placed.fee)
"""


def earn_trading_fees(app) -> None:  # type: ignore[no-untyped-def]
    """Alice sells Bob 0.5 ETH at 2,000 USDT: as the maker she pays 0.1 % of the 1,000 USDT,
    so the fee account gains 1.000000 USDT (Bob's taker fee is in ETH)."""
    result = subprocess.run(
        [sys.executable, "-c", _FEE_TRADE, ALICE, BOB, "ETH-USDT", str(2_000 * 10**6),
         str(50_000_000)],
        cwd=PROJECT_ROOT, env=app.env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "filled", result.stdout
