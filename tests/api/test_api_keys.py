"""The API key service: sealed secrets, scopes, allowlist, expiry, revocation, 2FA, emails,
the audit log, and the account events that disable every key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from bitchange import db
from bitchange.accounts import admin, api_keys, email_tokens, security
from bitchange.accounts.tables import ApiKey
from bitchange.accounts.users import create_user
from bitchange.clock import now
from bitchange.db.models import AdminAuditLog
from bitchange.mail.tables import OutboxMessage
from tests.api.conftest import new_key

_keys = ApiKey.__table__


def authenticate(api_key: str, ip: str = "127.0.0.1") -> api_keys.Caller:
    with db.read() as conn:
        return api_keys.authenticate(conn, api_key, ip)


def test_the_secret_is_sealed_at_rest_and_bound_to_its_key(alice) -> None:
    key = new_key(alice)
    assert key.secret and len(key.secret) == 64
    with db.read() as conn:
        stored = conn.execute(select(_keys).where(_keys.c.id == key.key_id)).one()
        dumped = "\n".join(conn.connection.driver_connection.iterdump())
    assert key.secret not in dumped and stored.sealed_secret.startswith("s1:")
    assert authenticate(key.api_key).verifier == key.secret
    views = api_keys_of(alice.user_id)
    assert key.secret not in repr(views)
    other = new_key(alice)
    with db.write() as conn:  # copied onto another key's row, it does not unseal
        conn.execute(_keys.update().where(_keys.c.id == other.key_id)
                     .values(sealed_secret=stored.sealed_secret))
    with pytest.raises(ValueError):
        authenticate(other.api_key)


def api_keys_of(user_id: int) -> list[api_keys.ApiKeyView]:
    with db.read() as conn:
        return api_keys.list_keys(conn, user_id)


def test_an_email_with_the_anti_phishing_phrase_and_an_audit_entry_for_each_change(alice):
    with db.write() as conn:
        security.set_anti_phishing_code(conn, alice.user_id, "blue heron")
    key = new_key(alice)
    with db.write() as conn:
        api_keys.update_key(conn, alice.user_id, key.key_id, scopes=["read"], allowlist="")
        api_keys.revoke(conn, alice.user_id, key.key_id)
    with db.read() as conn:
        mails = conn.execute(select(OutboxMessage.__table__).where(
            OutboxMessage.__table__.c.kind == "api_key")).all()
        actions = list(conn.scalars(select(AdminAuditLog.__table__.c.action)))
    assert len(mails) == 3
    assert all("blue heron" in m.text_body and key.secret not in m.text_body for m in mails)
    assert actions == ["api_key_create", "api_key_update", "api_key_revoke"]


def test_scopes_allowlist_and_fresh_codes(alice) -> None:
    key = new_key(alice, scopes=("read",), allowlist="10.0.0.0/8 2001:db8::/32, 192.0.2.9")
    assert authenticate(key.api_key, "10.1.2.3").scopes == {"read"}
    assert authenticate(key.api_key, "2001:db8::1").user_id == alice.user_id
    assert authenticate(key.api_key, "192.0.2.9").user_id == alice.user_id
    for refused_ip in ("192.0.2.10", "2001:db9::1", "junk"):
        with pytest.raises(api_keys.KeyRejected):
            authenticate(key.api_key, refused_ip)
    with pytest.raises(api_keys.ApiKeyError, match="code"), db.write() as conn:
        api_keys.update_key(conn, alice.user_id, key.key_id, scopes=["read", "trade"],
                            allowlist="10.0.0.0/8 2001:db8::/32 192.0.2.9", code="000000")
    with db.write() as conn:
        api_keys.update_key(conn, alice.user_id, key.key_id, scopes=["read", "trade"],
                            allowlist="10.0.0.0/8 2001:db8::/32 192.0.2.9", code=alice.code())
    assert authenticate(key.api_key, "10.1.2.3").scopes == {"read", "trade"}
    with pytest.raises(api_keys.ApiKeyError, match="Not an IP"):
        api_keys.parse_allowlist("10.0.0.0/33")
    with pytest.raises(api_keys.ApiKeyError, match="Not an IP"):
        api_keys.parse_allowlist("10.0.0.7/24")  # host bits set: ambiguous


def test_expiry_and_revocation(alice) -> None:
    with db.write() as conn:
        soon = api_keys.create_key(conn, alice.user_id, label="short", kind="hmac",
                                   scopes=["read"], expires_at=now() + timedelta(seconds=1),
                                   code=alice.code())
        conn.execute(_keys.update().where(_keys.c.id == soon.key_id)
                     .values(expires_at=now() - timedelta(seconds=1)))
    with pytest.raises(api_keys.KeyRejected):
        authenticate(soon.api_key)
    assert api_keys_of(alice.user_id)[0].status == "expired"
    keep, other = new_key(alice), new_key(alice)
    with db.write() as conn:
        assert api_keys.revoke_all(conn, alice.user_id) == 3  # the expired one too
    for key in (keep, other):
        with pytest.raises(api_keys.KeyRejected):
            authenticate(key.api_key)


def test_ed25519_keys_verify_the_owners_signature(alice) -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    with db.write() as conn:
        key = api_keys.create_key(conn, alice.user_id, label="ed", kind="ed25519",
                                  scopes=["read"], public_key=pem.decode(), code=alice.code())
    assert key.secret is None
    caller = authenticate(key.api_key)
    import base64

    payload = "symbol=BTCUSDT&timestamp=1"
    signature = base64.b64encode(private.sign(payload.encode())).decode()
    assert caller.signature_valid(payload, signature)
    assert not caller.signature_valid(payload + "0", signature)
    with pytest.raises(api_keys.ApiKeyError, match="PEM"):
        api_keys.parse_public_key("not a key")


@pytest.mark.parametrize("event", ["freeze", "not_me", "reset", "admin_revoke"])
def test_account_events_disable_the_keys(alice, event: str) -> None:
    key = new_key(alice)
    with db.write() as conn:
        admin_id = create_user(conn, "ops@example.com", "correct horse battery",
                               verified=True, is_admin=True)
        if event == "freeze":
            admin.freeze(conn, admin_id, alice.user_id, ip="127.0.0.1")
        elif event == "not_me":
            security.report_not_me(conn, email_tokens.issue(conn, alice.user_id, "not_me"))
        elif event == "reset":
            security.reset_password(conn, email_tokens.issue(conn, alice.user_id, "reset"),
                                    "a brand new passphrase 42")
        else:
            api_keys.admin_revoke(conn, admin_id, alice.user_id, key.key_id, ip="127.0.0.1")
    with pytest.raises(api_keys.KeyRejected):
        authenticate(key.api_key)
    assert api_keys_of(alice.user_id)[0].status == "revoked"


def test_unverified_and_frozen_accounts_cannot_create_keys(alice) -> None:
    with db.write() as conn:
        admin_id = create_user(conn, "ops@example.com", "correct horse battery", verified=True)
        admin.freeze(conn, admin_id, alice.user_id, ip="127.0.0.1")
    with pytest.raises(api_keys.ApiKeyError, match="frozen"):
        new_key(alice)
    assert api_keys_of(alice.user_id) == []
