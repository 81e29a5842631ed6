"""Changing the email address, end to end with the real SMTP server: the old address gets the
notice (with "this wasn't me"), the new one the link; nothing changes before the click; after it
the other sessions end, and withdrawals and API-key creation wait out the lock."""

from __future__ import annotations

import pyotp
import pytest

from bitchange import db
from bitchange.accounts import api_keys, email_change, security, totp
from bitchange.accounts.sessions import activate_session, resolve_session, start_session
from bitchange.accounts.users import AccountError, create_user, get_user
from bitchange.mail.outbox import deliver_due
from bitchange.wallet import policy
from bitchange.wallet.errors import WalletError
from tests.accounts.conftest import PASSWORD, token_from
from tests.mailbox import link_to, text_of

OLD, NEW = "trader@example.com", "new-home@example.com"


@pytest.fixture
def otp(user) -> list[str]:
    """2FA is on; its recovery codes, each a fresh second factor."""
    with db.write() as conn:
        secret = totp.begin_enrolment(conn, user, OLD).secret
    with db.write() as conn:
        return security.confirm_two_factor(conn, user, pyotp.TOTP(secret).now())


def _code(codes: list[str], n: int) -> str:
    return codes[n]


def _session(user: int) -> tuple[int, str]:
    with db.write() as conn:
        token = activate_session(conn, start_session(conn, user))
        return resolve_session(conn, token).session_id, token


def _alive(token: str) -> bool:
    with db.read() as conn:
        return resolve_session(conn, token) is not None


def test_the_change_applies_only_after_the_new_address_confirms(user, otp, smtp_server):
    asking, asking_token = _session(user)
    _other, other_token = _session(user)
    with db.write() as conn, pytest.raises(AccountError):
        email_change.request(conn, user, NEW, "not my password at all", _code(otp, 1),
                             session_id=asking)
    with db.write() as conn:
        answer = email_change.request(conn, user, NEW, PASSWORD, _code(otp, 1),
                                      session_id=asking)
    assert NEW in answer
    deliver_due()
    notice = smtp_server.wait_for(OLD, "A change of your email address was asked")
    assert NEW in text_of(notice) and link_to(notice, "/not-me?token=")
    confirm = smtp_server.wait_for(NEW, "Confirm your new email address")
    with db.read() as conn:
        assert get_user(conn, user).email == OLD  # not before the click
        assert email_change.pending_address(conn, user) == NEW
    link = link_to(confirm, "/confirm-email-change?token=")
    with db.write() as conn:
        assert email_change.confirm(conn, token_from(link))
    with db.write() as conn:
        assert not email_change.confirm(conn, token_from(link))  # once
    with db.read() as conn:
        assert get_user(conn, user).email == NEW
    assert _alive(asking_token) and not _alive(other_token)
    deliver_due()
    assert NEW in text_of(smtp_server.wait_for(OLD, "Your email address was changed"))
    # Withdrawals and API-key creation are locked now.
    with db.write() as conn, pytest.raises(WalletError, match="email change"):
        policy.check_can_send(conn, user)
    with db.write() as conn, pytest.raises(api_keys.ApiKeyError, match="email change"):
        api_keys.create_key(conn, user, label="bot", kind="hmac", scopes=["read"],
                            code=_code(otp, 2))
    # Logging in uses the new address.
    with db.write() as conn:
        assert security.login_password(conn, NEW, PASSWORD, ip="1.1.1.1",
                                       user_agent="").status == "need_code"


def test_this_was_not_me_cancels_the_change_and_freezes(user, otp, smtp_server):
    asking, token = _session(user)
    with db.write() as conn:
        email_change.request(conn, user, NEW, PASSWORD, _code(otp, 1), session_id=asking)
    deliver_due()
    not_me = link_to(smtp_server.wait_for(OLD, "A change of your email"), "/not-me?token=")
    confirm = link_to(smtp_server.wait_for(NEW, "Confirm your new"), "/confirm-email-change")
    with db.write() as conn:
        assert security.report_not_me(conn, token_from(not_me))
    assert not _alive(token)
    with db.write() as conn:
        assert not email_change.confirm(conn, token_from(confirm))
    with db.read() as conn:
        assert get_user(conn, user).email == OLD and get_user(conn, user).frozen


def test_an_address_with_an_account_gets_a_notice_not_a_link(user, otp, smtp_server):
    with db.write() as conn:
        create_user(conn, NEW, PASSWORD, verified=True)
    with db.write() as conn:
        answer = email_change.request(conn, user, NEW, PASSWORD, _code(otp, 1), session_id=None)
    assert NEW in answer  # the same answer as for a free address
    deliver_due()
    taken = smtp_server.wait_for(NEW, "Someone tried to use this address")
    assert "/confirm-email-change" not in text_of(taken)
    with db.read() as conn:
        assert email_change.pending_address(conn, user) == ""


def test_2fa_is_asked_when_it_is_on(user, otp):
    with db.write() as conn, pytest.raises(AccountError):
        email_change.request(conn, user, NEW, PASSWORD, "", session_id=None)
    with db.write() as conn, pytest.raises(AccountError, match="already"):
        email_change.request(conn, user, OLD, PASSWORD, _code(otp, 1), session_id=None)
