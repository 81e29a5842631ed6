"""The data export holds the user's data and nothing of anyone else's (two users who traded
with each other); closure is refused while funds or open orders remain and says what, allowed at
zero; a closed account cannot log in or use an API key. Reconcile passes."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest

from bitchange import clock, db, ledger
from bitchange.accounts import api_keys, security, totp
from bitchange.accounts.sessions import activate_session, resolve_session, start_session
from bitchange.accounts.users import AccountError
from bitchange.privacy.service import close_account, export
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from tests.trading.conftest import BTC, USDT, price, qty

SECRET = pyotp.random_base32()
PASSWORD = "correct horse battery"


def _with_2fa(user_id: int) -> pyotp.TOTP:
    with db.write() as conn:
        totp.enable_with_secret(conn, user_id, SECRET)
    return pyotp.TOTP(SECRET)


def test_export_has_the_users_data_and_nothing_of_the_other(alice, bob, market):
    service.place_order(alice.user_id, market, OrderRequest(
        side="SELL", kind="limit", price=price("60000"), quantity=qty("0.5")))
    service.place_order(bob.user_id, market, OrderRequest(
        side="BUY", kind="limit", price=price("60000"), quantity=qty("0.2")))
    with db.write() as conn:
        start_session(conn, alice.user_id, ip="10.1.1.1", user_agent="Firefox")
        start_session(conn, bob.user_id, ip="10.2.2.2", user_agent="Bob's browser")
    with db.read() as conn:
        data = export(conn, alice.user_id)
    text = json.dumps(data)
    assert data["profile"]["email"] == "alice@example.com"
    assert "password_hash" not in data["profile"] and "token_hash" not in text
    assert [o["side"] for o in data["orders"]] == ["SELL"]
    (trade,) = data["trades"]
    assert trade["side"] == "SELL" and trade["role"] == "maker" and trade["quantity"] == qty(
        "0.2")
    assert data["ledger_entries"] and data["sessions"][0]["ip"] == "10.1.1.1"
    for needle in ("bob@example.com", "10.2.2.2", "Bob's browser"):
        assert needle not in text
    assert all(bob.user_id not in (row.get("user_id"), row.get("maker_user_id"),
                                   row.get("taker_user_id"))
               for section in data.values() if isinstance(section, list) for row in section)
    with db.read() as conn:
        assert ledger.reconcile(conn).ok


def test_closure_refused_with_funds_then_allowed_at_zero(alice, bob, market):
    otp = _with_2fa(alice.user_id)
    with db.write() as conn:
        key = api_keys.create_key(conn, alice.user_id, label="bot", kind="hmac",
                                  scopes=["read"], code=otp.now())
        token = activate_session(conn, start_session(conn, alice.user_id))
    service.place_order(alice.user_id, market, OrderRequest(
        side="SELL", kind="limit", price=price("70000"), quantity=qty("1")))
    with db.write() as conn, pytest.raises(AccountError) as refused:
        close_account(conn, alice.user_id, PASSWORD, "")
    assert "open order" in str(refused.value) and "BTC" in str(refused.value)
    assert "USDT" in str(refused.value)
    service.cancel_all(alice.user_id)
    with db.write() as conn:
        for asset, (available, _locked) in ledger.balances_of(conn, alice.account).items():
            if available:
                ledger.transfer(conn, alice.account, bob.account, asset, available)
    with db.write() as conn, pytest.raises(AccountError):
        close_account(conn, alice.user_id, "wrong password here", "")
    with db.write() as conn:
        close_account(conn, alice.user_id, PASSWORD, otp.at(clock.now() + timedelta(seconds=30)))
    with db.read() as conn:
        assert resolve_session(conn, token) is None
        with pytest.raises(api_keys.KeyRejected):
            api_keys.authenticate(conn, key.api_key, "127.0.0.1")
        assert ledger.reconcile(conn).ok
        assert export(conn, alice.user_id)["profile"]["closed_at"]  # the records are kept
    with db.write() as conn:
        outcome = security.login_password(conn, "alice@example.com", PASSWORD, ip="1.1.1.1",
                                          user_agent="")
    assert outcome.status == "failed" and outcome.message == security.CLOSED_MESSAGE
    assert bob.balance("BTC")[0] == 20 * BTC and bob.balance("USDT")[0] == 2_000_000 * USDT
