"""Wallet test helpers: a controlled clock, users with 2FA, admins, prices from real trades,
the emails a user got, and a reconcile check after every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select

from bitchange import clock, db, ledger
from bitchange.accounts import totp
from bitchange.accounts.users import create_user
from bitchange.config import reload_settings
from bitchange.mail.tables import OutboxMessage
from bitchange.trading import service
from bitchange.trading.service import OrderRequest

BTC = 10**8
ETH = 10**8
USDT = 10**6
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # test users' authenticator secret
ADMIN_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
START = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
# Valid addresses (BIP84 test vector; EIP-55 examples from the EIP).
BTC_ADDRESS = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
BTC_ADDRESS_2 = "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g"
ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wallet tests create many users; one argon2 hash per distinct password is enough."""
    from functools import lru_cache

    from bitchange.accounts import passwords, users

    monkeypatch.setattr(users, "hash_password", lru_cache(passwords.hash_password))


class Clock:
    """The exchange's clock, under the test's control."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)

    def code(self, secret: str = SECRET) -> str:
        """A fresh TOTP code: moves the clock past the last used 30-second step first."""
        self.advance(seconds=31)
        return pyotp.TOTP(secret).at(self.moment)


@pytest.fixture
def clock_(database) -> Iterator[Clock]:
    controlled = Clock(START - timedelta(days=10))
    with clock.freeze(controlled.now):
        yield controlled


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """settings(NAME=value, ...) changes wallet settings for this test."""
    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reload_settings()

    yield apply
    reload_settings()


@dataclass
class Person:
    user_id: int
    email: str
    account: int
    secret: str

    def balance(self, asset: str) -> tuple[int, int]:
        with db.read() as conn:
            return ledger.balances_of(conn, self.account).get(asset, (0, 0))


def make_person(email: str, *, admin: bool = False, two_factor: bool = True,
                funds: dict[str, int] | None = None, secret: str = SECRET) -> Person:
    with db.write() as conn:
        user_id = create_user(conn, email, "correct-horse-battery-9", is_admin=admin,
                              verified=True)
        if two_factor:
            totp.enable_with_secret(conn, user_id, secret)
        account = ledger.account_for_user(conn, user_id)
        for asset, amount in (funds or {}).items():
            ledger.credit_deposit(conn, account, asset, amount, ref_type="test")
    return Person(user_id, email, account, secret)


@dataclass
class World:
    clock: Clock
    alice: Person
    bob: Person
    admin: Person
    admin2: Person


@pytest.fixture
def world(clock_: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Accounts created and 2FA enabled ten days before START; the clock then stands at START."""
    for name in ("DEPOSIT_XPUB_BTC", "DEPOSIT_XPUB_ETH", "DEPOSIT_XPUB_USDT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BITCHANGE_ENV", "test")
    # Verification-level limits (bitchange.kyc) out of the way; test_kyc_limits puts them back.
    monkeypatch.setenv("KYC_WITHDRAWAL_LIMITS_USDT", "0=100000000,1=100000000,2=100000000")
    monkeypatch.setenv("KYC_TRANSFER_LIMITS_USDT", "0=100000000,1=100000000,2=100000000")
    reload_settings()
    service.forget_books()
    alice = make_person("alice@example.com", funds={"BTC": 2 * BTC, "USDT": 100_000 * USDT})
    bob = make_person("bob@example.com", funds={"USDT": 1_000 * USDT})
    admin = make_person("admin1@example.com", admin=True, secret=ADMIN_SECRET)
    admin2 = make_person("admin2@example.com", admin=True, secret=ADMIN_SECRET)
    clock_.moment = START
    yield World(clock_, alice, bob, admin, admin2)
    service.forget_books()
    with db.read() as conn:
        report = ledger.reconcile(conn)
    assert report.ok, report.summary()
    reload_settings()


def set_price(symbol: str, price_minor: int) -> None:
    """A real trade at `price_minor` (quote minor per whole base) between two market makers."""
    base = symbol.split("-")[0]
    suffix = f"{symbol.lower()}-{price_minor}-{os.urandom(3).hex()}"
    seller = make_person(f"mm-sell-{suffix}@example.com", two_factor=False,
                         funds={base: 10 * 10**8})
    buyer = make_person(f"mm-buy-{suffix}@example.com", two_factor=False,
                        funds={"USDT": 10_000_000 * USDT})
    quantity = 1_000_000  # 0.01 of the base
    service.place_order(seller.user_id, symbol, OrderRequest("SELL", "limit", price_minor,
                                                            quantity))
    service.place_order(buyer.user_id, symbol, OrderRequest("BUY", "limit", price_minor,
                                                           quantity))


def emails(to: str, kind: str | None = None) -> list:  # type: ignore[type-arg]
    outbox = OutboxMessage.__table__
    query = select(outbox).where(outbox.c.to_addr == to).order_by(outbox.c.id)
    if kind:
        query = query.where(outbox.c.kind == kind)
    with db.read() as conn:
        return list(conn.execute(query))


def token_in(message) -> str:  # type: ignore[no-untyped-def]
    for word in message.text_body.split():
        if "token=" in word:
            return parse_qs(urlparse(word).query)["token"][0]
    raise AssertionError(f"no link with a token in:\n{message.text_body}")
