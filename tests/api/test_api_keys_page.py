"""The API keys page's handlers: the owner creates (secret shown once), lists and revokes;
another user's key id and anonymous callers change nothing."""

from __future__ import annotations

from bitchange import db
from bitchange.accounts import api_keys
from bitchange.accounts.sessions import activate_session, start_session
from bitchange.state.api_keys import ApiKeysState
from tests.accounts.test_handlers import state_of
from tests.api.conftest import new_key


def token_for(user_id: int) -> str:
    with db.write() as conn:
        return activate_session(conn, start_session(conn, user_id, ip="127.0.0.1",
                                                    user_agent="pytest"))


def statuses(user_id: int) -> list[str]:
    with db.read() as conn:
        return [k.status for k in api_keys.list_keys(conn, user_id)]


def test_create_list_and_revoke_through_the_handlers(alice, bob) -> None:
    state = state_of(ApiKeysState, token_for(alice.user_id))
    state.load()
    assert state.access == "ok" and state.keys == []
    state.create({"label": "bot", "kind": "hmac", "scope_read": "on", "scope_trade": "on",
                  "allowlist": "", "expiry_days": "30", "code": "000000"})
    assert "code is not valid" in state.error and statuses(alice.user_id) == []
    state.create({"label": "bot", "kind": "hmac", "scope_read": "on", "scope_trade": "on",
                  "allowlist": "198.51.100.0/24", "expiry_days": "30", "code": alice.code()})
    assert state.error == "" and len(state.new_secret) == 64
    assert [k["scopes"] for k in state.keys] == ["read, trade"]
    assert state.keys[0]["allowlist"] == "198.51.100.0/24"
    assert state.new_secret not in repr(state.keys)
    state.load()  # the page after creation: the secret is gone
    assert state.new_secret == "" and state.new_key == ""

    bobs = new_key(bob)
    state.revoke(str(bobs.key_id))  # another user's key is "no such key"
    assert state.error == "No such API key." and statuses(bob.user_id) == ["active"]
    state.revoke(state.keys[0]["id"])
    assert state.notice == "API key revoked." and statuses(alice.user_id) == ["revoked"]

    anonymous = state_of(ApiKeysState)
    anonymous.load()
    anonymous.revoke_all()
    assert anonymous.access == "denied" and statuses(bob.user_id) == ["active"]
