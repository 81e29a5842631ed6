"""Passkeys at the service, answered by a software authenticator: adding one needs the password
and 2FA and sends a notice; a passkey confirms a login, signs in alone only where enabled,
answers the 2FA of an API key; a counter that goes backwards (a clone) is refused; rename and
remove; admins may be required to use one."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest

from bitchange import clock, db
from bitchange.accounts import api_keys, passkeys, security, totp
from bitchange.accounts.sessions import activate_session, resolve_session
from bitchange.accounts.tables import Passkey
from bitchange.accounts.users import AccountError, set_admin
from bitchange.config import reload_settings
from bitchange.mail.outbox import deliver_due
from bitchange.wallet import policy
from tests.accounts.conftest import PASSWORD, UA_FIREFOX
from tests.accounts.soft_authenticator import SoftAuthenticator
from tests.mailbox import text_of

IP = "10.0.0.1"


@pytest.fixture
def enrolled(user) -> list[str]:
    """The user has 2FA on; their recovery codes (each a fresh second factor)."""
    with db.write() as conn:
        secret = totp.begin_enrolment(conn, user, "trader@example.com").secret
    with db.write() as conn:
        codes = security.confirm_two_factor(conn, user, pyotp.TOTP(secret).now())
    assert codes
    return codes


def _authenticator() -> SoftAuthenticator:
    rp = passkeys.relying_party()
    return SoftAuthenticator(origin=rp.origin, rp_id=rp.id)


def _add(user: int, code: str, name: str = "Laptop") -> SoftAuthenticator:
    key = _authenticator()
    with db.write() as conn:
        options = security.begin_passkey(conn, user, PASSWORD, code)
    with db.write() as conn:
        security.add_passkey(conn, user, key.create(options), name)
    return key


def _assert_options(user: int | None) -> str:
    with db.write() as conn:
        return passkeys.assertion_options(conn, user)


def _login_with(user: int, answer: str):  # type: ignore[no-untyped-def]
    with db.write() as conn:
        return security.login_code(conn, user, answer, ip=IP, user_agent=UA_FIREFOX)


def test_adding_needs_the_password_and_2fa_and_sends_a_notice(user, enrolled, smtp_server):
    with db.write() as conn, pytest.raises(AccountError):
        security.begin_passkey(conn, user, "wrong password entirely", enrolled[0])
    with db.write() as conn, pytest.raises(AccountError):
        security.begin_passkey(conn, user, PASSWORD, "000000")
    _add(user, enrolled[1])
    with db.read() as conn:
        listed = passkeys.list_passkeys(conn, user)
        stored = conn.execute(Passkey.__table__.select()).one()
    assert [p.name for p in listed] == ["Laptop"]
    # Only the public key (COSE) and the counter are kept.
    assert set(stored._mapping) == {"id", "user_id", "credential_id", "public_key",
                                    "sign_count", "name", "created_at", "last_used_at"}
    deliver_due()
    notice = smtp_server.wait_for("trader@example.com", "A passkey was added")
    assert "Laptop" in text_of(notice) and "/not-me?token=" in text_of(notice)


def test_without_2fa_no_passkey_can_be_added(user):
    with db.write() as conn, pytest.raises(AccountError, match="two-factor"):
        security.begin_passkey(conn, user, PASSWORD, "")


def test_a_registration_answer_is_bound_to_its_challenge(user, enrolled):
    key = _authenticator()
    with db.write() as conn:
        options = security.begin_passkey(conn, user, PASSWORD, enrolled[0])
    answer = key.create(options)
    with db.write() as conn:
        security.add_passkey(conn, user, answer, "Laptop")
    with db.write() as conn, pytest.raises(AccountError, match="expired"):
        security.add_passkey(conn, user, answer, "Again")  # the challenge is used up
    forged = json.loads(key.create(json.dumps({"challenge": "AAAA"})))
    with db.write() as conn, pytest.raises(AccountError, match="expired"):
        security.add_passkey(conn, user, json.dumps(forged), "Forged")


def test_a_passkey_confirms_the_login_instead_of_a_code(user, enrolled):
    key = _add(user, enrolled[0])
    with db.write() as conn:
        step = security.login_password(conn, "trader@example.com", PASSWORD, ip=IP,
                                       user_agent=UA_FIREFOX)
    assert step.status == "need_code" and step.passkey
    done = _login_with(user, key.get(_assert_options(user)))
    assert done.status == "ok" and done.ticket
    with db.write() as conn:
        token = activate_session(conn, done.ticket)
        assert resolve_session(conn, token).has_passkey


def test_a_cloned_counter_is_refused(user, enrolled):
    key = _add(user, enrolled[0])
    assert _login_with(user, key.get(_assert_options(user))).status == "ok"
    assert _login_with(user, key.get(_assert_options(user))).status == "ok"
    # A clone of the authenticator still at the earlier counter.
    key.sign_count -= 1
    refused = _login_with(user, key.get(_assert_options(user), advance=False))
    assert refused.status == "failed" and refused.message == passkeys.NOT_ACCEPTED
    with db.read() as conn:
        assert conn.scalar(Passkey.__table__.select().with_only_columns(
            Passkey.__table__.c.sign_count)) == 2
    # The same answer twice (a replay) is refused as well: its challenge is used up.
    answer = key.get(_assert_options(user), advance=True)
    key.sign_count += 5
    assert _login_with(user, answer).status == "failed"


def test_another_users_passkey_or_challenge_does_not_count(user, enrolled, database):
    key = _add(user, enrolled[0])
    with db.write() as conn:
        other = security.create_user(conn, "other@example.com", PASSWORD, verified=True)
        secret = totp.begin_enrolment(conn, other, "other@example.com").secret
    with db.write() as conn:
        security.confirm_two_factor(conn, other, pyotp.TOTP(secret).now())
    # The owner's passkey answering a challenge issued for another account.
    options = json.loads(_assert_options(other))
    options["allowCredentials"] = []
    assert _login_with(other, key.get(json.dumps(options))).status == "failed"


def _sign_in(answer: str):  # type: ignore[no-untyped-def]
    with db.write() as conn:
        return security.login_passkey(conn, answer, ip=IP, user_agent=UA_FIREFOX)


def test_passwordless_only_where_enabled(user, enrolled):
    key = _add(user, enrolled[0])
    assert _sign_in(key.get(_assert_options(None))).status == "failed"
    with db.write() as conn:
        security.set_passwordless(conn, user, True)
    done = _sign_in(key.get(_assert_options(None)))
    assert done.status == "ok" and done.ticket
    # Without user verification (no PIN or biometrics) it is not enough on its own.
    key.user_verified = False
    assert _sign_in(key.get(_assert_options(None))).status == "failed"


def test_an_api_key_step_accepts_a_passkey(user, enrolled):
    key = _add(user, enrolled[0])
    answer = key.get(_assert_options(user))
    with db.write() as conn:
        created = api_keys.create_key(conn, user, label="bot", kind="hmac", scopes=["read"],
                                      code=answer)
    assert created.api_key


def test_the_withdrawal_code_step_accepts_a_passkey(user, enrolled):
    key = _add(user, enrolled[0])
    answer = key.get(_assert_options(user))
    sender = policy.Sender(user, "trader@example.com", clock.now(), None, "")
    with db.write() as conn:
        policy.check_code(conn, sender, answer)  # accepted: no BadCode
    with db.write() as conn, pytest.raises(policy.BadCode):
        policy.check_code(conn, sender, answer)  # its challenge is used up


def test_rename_remove_and_passwordless_goes_with_the_last(user, enrolled, smtp_server):
    _add(user, enrolled[0])
    with db.write() as conn:
        (info,) = passkeys.list_passkeys(conn, user)
        passkeys.rename(conn, user, info.id, "  Phone  ")
        security.set_passwordless(conn, user, True)
    with db.write() as conn, pytest.raises(AccountError):
        security.disable_two_factor(conn, user, PASSWORD, enrolled[1])
    with db.write() as conn:
        assert [p.name for p in passkeys.list_passkeys(conn, user)] == ["Phone"]
        with pytest.raises(AccountError):
            passkeys.remove(conn, user, info.id + 1000)
        security.remove_passkey(conn, user, info.id)
    with db.read() as conn:
        assert passkeys.list_passkeys(conn, user) == []
        assert not security.overview(conn, user).passwordless
    deliver_due()
    smtp_server.wait_for("trader@example.com", "A passkey was removed")


def test_challenges_expire(user, enrolled):
    key = _add(user, enrolled[0])
    options = _assert_options(user)
    later = clock.now() + passkeys.CHALLENGE_LIFETIME + timedelta(seconds=1)
    with clock.freeze(lambda: later):
        assert _login_with(user, key.get(options)).status == "failed"


def test_admins_may_be_required_to_use_a_passkey(user, enrolled, monkeypatch):
    with db.write() as conn:
        set_admin(conn, user, True)
    monkeypatch.setenv("ADMIN_REQUIRE_PASSKEY", "1")
    reload_settings()
    key = _add(user, enrolled[0])
    refused = _login_with(user, enrolled[1])
    assert refused.status == "failed" and refused.message == security.ADMIN_NEEDS_PASSKEY
    assert _login_with(user, key.get(_assert_options(user))).status == "ok"
    monkeypatch.delenv("ADMIN_REQUIRE_PASSKEY")
    reload_settings()
