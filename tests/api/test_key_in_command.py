"""A key this process has authenticated before places orders without a read of its own: the
signature is checked against the remembered key, and the key itself again in the placement's
transaction. Whatever changed since (revoked, a scope taken away, the allowlist, the owner
frozen or the key expired) refuses the next order with Binance's -2015, nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bitchange import db
from bitchange.accounts import api_keys
from bitchange.accounts.tables import ApiKey
from bitchange.clock import now
from bitchange.db.models import User
from bitchange.ledger import reconcile
from bitchange.trading.tables import Order
from tests.api.conftest import Signed, Trader

LIMIT_BUY = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "quantity": "0.01", "price": "30000"}
_keys = ApiKey.__table__


def _orders() -> int:
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(Order.__table__))


def _change_key(api: Signed, **values: object) -> None:
    """As another process would: straight in the database, this process's memory untouched."""
    with db.write() as conn:
        conn.execute(update(_keys).where(_keys.c.api_key == api.key).values(**values))


def _freeze(trader: Trader) -> None:
    """The owner's state alone (support's freeze also revokes the keys: see test_rest)."""
    with db.write() as conn:
        conn.execute(update(User.__table__).where(User.__table__.c.id == trader.user_id)
                     .values(frozen_at=now()))


CHANGES: dict[str, Callable[[Signed, Trader], None]] = {
    "revoked": lambda api, _: _change_key(api, revoked_at=now()),
    "trade scope taken away": lambda api, _: _change_key(api, scopes="read"),
    "allowlist without this IP": lambda api, _: _change_key(api, ip_allowlist="203.0.113.7"),
    "expired": lambda api, _: _change_key(api, expires_at=now() - timedelta(seconds=1)),
    "owner frozen": lambda api, trader: _freeze(trader),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_remembered_key_is_checked_again_in_the_placement(alice_api, alice, change) -> None:
    assert alice_api.call("POST", "/order", LIMIT_BUY).status_code == 200  # now remembered
    held_before = alice.balance("USDT")
    CHANGES[change](alice_api, alice)
    refused = alice_api.call("POST", "/order", LIMIT_BUY)
    assert (refused.status_code, refused.json()) == (401, {
        "code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
    assert _orders() == 1 and alice.balance("USDT") == held_before
    with db.read() as conn:
        assert reconcile(conn).ok


def test_the_keys_refusal_comes_before_the_orders_own(alice_api) -> None:
    """As without the memory: a revoked key sending a bad order hears about its key."""
    assert alice_api.call("POST", "/order", LIMIT_BUY).status_code == 200
    _change_key(alice_api, revoked_at=now())
    answer = alice_api.call("POST", "/order", {**LIMIT_BUY, "side": "SIDEWAYS"})
    assert (answer.status_code, answer.json()["code"]) == (401, -2015)
    assert _orders() == 1


def test_a_remembered_key_places_without_a_read_of_its_own(alice_api, monkeypatch) -> None:
    assert alice_api.call("POST", "/order", LIMIT_BUY).status_code == 200
    reads = []
    real_read = db.read

    def counted():  # type: ignore[no-untyped-def]
        reads.append(1)
        return real_read()

    monkeypatch.setattr(db, "read", counted)
    placed = alice_api.call("POST", "/order", LIMIT_BUY)
    assert placed.status_code == 200 and reads == []
    bad_signature = alice_api.call("POST", "/order", LIMIT_BUY, secret="x" * 64)
    assert bad_signature.json()["code"] == -1022 and reads == [1]  # decided by a read
    assert _orders() == 2


def test_still_allowed_is_the_same_key_with_the_scope(alice_api) -> None:
    with db.read() as conn:
        caller = api_keys.authenticate(conn, alice_api.key, "testclient")
        assert api_keys.remembered(alice_api.key) == caller
        assert api_keys.still_allowed(conn, alice_api.key, caller, "testclient", "trade")
        assert not api_keys.still_allowed(conn, alice_api.key, caller, "testclient", "withdraw")
        other = api_keys.Caller(caller.key_id, caller.user_id + 1, caller.kind, caller.scopes,
                                caller.verifier, None, None)
        assert not api_keys.still_allowed(conn, alice_api.key, other, "testclient", "trade")
        forged = api_keys.Caller(caller.key_id, caller.user_id, caller.kind, caller.scopes,
                                 "another secret", None, None)
        assert not api_keys.still_allowed(conn, alice_api.key, forged, "testclient", "trade")
