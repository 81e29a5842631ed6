"""Helpers for the trader API tests: traders with 2FA and keys, a signed HTTP client over
Starlette's TestClient against bitchange.web's app."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from bitchange import db, ledger
from bitchange.accounts import api_keys, totp
from bitchange.accounts.users import create_user
from bitchange.api.limits import limiter
from bitchange.trading import service

BTC = 10**8
USDT = 10**6


@dataclass
class Trader:
    user_id: int
    account: int
    codes: list[str] = field(default_factory=list)  # recovery codes: one fresh 2FA code each

    def code(self) -> str:
        return self.codes.pop()

    def balance(self, asset: str) -> tuple[int, int]:
        with db.read() as conn:
            return ledger.balances_of(conn, self.account).get(asset, (0, 0))


def make_trader(email: str, funds: dict[str, int], *, two_factor: bool = True) -> Trader:
    with db.write() as conn:
        user_id = create_user(conn, email, "correct horse battery", verified=True)
        account = ledger.account_for_user(conn, user_id)
        for asset, amount in funds.items():
            ledger.credit_deposit(conn, account, asset, amount)
        codes = []
        if two_factor:
            totp.enable_with_secret(conn, user_id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
            codes = totp.new_recovery_codes(conn, user_id)
    return Trader(user_id, account, codes)


def new_key(trader: Trader, scopes=("read", "trade"), allowlist: str = "") -> api_keys.NewKey:
    with db.write() as conn:
        return api_keys.create_key(conn, trader.user_id, label="bot", kind="hmac",
                                   scopes=scopes, allowlist=allowlist, code=trader.code())


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


@dataclass
class Signed:
    """A client that signs as Binance documents: HMAC of the query string + body."""

    client: TestClient
    key: str
    secret: str
    prefix: str = "/api/v3"

    def call(self, method: str, path: str, params: dict | None = None, *,
             timestamp: int | None = None, secret: str | None = None, in_body: bool = False):
        query = dict(params or {})
        query["timestamp"] = timestamp if timestamp is not None else int(time.time() * 1000)
        text = urlencode(query)
        text += "&signature=" + sign(secret or self.secret, text)
        headers = {"X-MBX-APIKEY": self.key}
        if in_body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return self.client.request(method, self.prefix + path, content=text, headers=headers)
        return self.client.request(method, f"{self.prefix}{path}?{text}", headers=headers)


@pytest.fixture
def client(database) -> Iterator[TestClient]:
    from bitchange.web import api

    service.forget_books()
    limiter.cache_clear()
    with TestClient(api) as test_client:
        yield test_client
    service.forget_books()
    limiter.cache_clear()


@pytest.fixture
def alice(client) -> Trader:
    return make_trader("alice@example.com", {"BTC": 10 * BTC, "USDT": 1_000_000 * USDT})


@pytest.fixture
def bob(client) -> Trader:
    return make_trader("bob@example.com", {"BTC": 10 * BTC, "USDT": 1_000_000 * USDT})


@pytest.fixture
def alice_api(client, alice) -> Signed:
    key = new_key(alice)
    return Signed(client, key.api_key, key.secret)  # type: ignore[arg-type]
