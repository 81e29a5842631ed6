"""Sign-up, the password policy and email verification, with real emails followed by link."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bitchange import clock, db
from bitchange.accounts import security
from bitchange.accounts.users import AccountError, get_user_by_email
from bitchange.mail.outbox import deliver_due
from tests.accounts.conftest import PASSWORD, token_from
from tests.mailbox import link_to


def _sign_up(email: str = "new@example.com", password: str = PASSWORD) -> str:
    with db.write() as conn:
        return security.sign_up(conn, email, password, ip="10.0.0.1")


@pytest.mark.parametrize(("password", "why"), [
    ("short-pass1", "at least 12"),
    ("new@example.com", "not be your email"),
    ("Password1234", "too common"),
    ("qwertyuiop123", "too common"),
])
def test_password_policy(database, password, why):
    with pytest.raises(AccountError, match=why):
        _sign_up(password=password)


def test_sign_up_then_verify_from_the_email(database, smtp_server):
    assert _sign_up() == security.CHECK_INBOX
    with db.read() as conn:
        assert get_user_by_email(conn, "new@example.com").email_verified is False
    deliver_due()
    message = smtp_server.wait_for("new@example.com", "Confirm your email")
    link = link_to(message, "/verify-email?token=")
    assert link.startswith("http://localhost:3000/verify-email")
    with db.write() as conn:
        assert security.verify_email(conn, token_from(link)) is True
    with db.read() as conn:
        user = get_user_by_email(conn, "new@example.com")
        assert user.email_verified is True
        assert security.overview(conn, user.id).restrictions == []
    # Single use.
    with db.write() as conn:
        assert security.verify_email(conn, token_from(link)) is False


def test_unverified_account_is_restricted_with_a_reason(database):
    _sign_up()
    with db.read() as conn:
        user = get_user_by_email(conn, "new@example.com")
        reasons = security.overview(conn, user.id).restrictions
    assert reasons == ["Confirm your email address to trade and withdraw."]


def test_verification_link_expires(database, smtp_server):
    _sign_up()
    deliver_due()
    link = link_to(smtp_server.wait_for("new@example.com", "Confirm"), "/verify-email")
    later = clock.now() + timedelta(hours=24, seconds=1)
    with clock.freeze(lambda: later), db.write() as conn:
        assert security.verify_email(conn, token_from(link)) is False


def test_sign_up_with_a_taken_email_answers_the_same_and_warns_the_owner(database, smtp_server):
    first = _sign_up()
    second = _sign_up(password="another-strong-pass-7")
    assert first == second == security.CHECK_INBOX
    deliver_due()
    smtp_server.wait_for("new@example.com", "Someone tried to sign up")
    with db.read() as conn:
        assert security.authenticate(conn, "new@example.com", PASSWORD) is not None


def test_resending_verification_is_throttled(database):
    _sign_up()
    with db.read() as conn:
        user_id = get_user_by_email(conn, "new@example.com").id
    answers = []
    for _ in range(5):
        with db.write() as conn:
            answers.append(security.resend_verification(conn, user_id, ip="10.0.0.9"))
    assert answers[:3] == ["We sent you a new confirmation link."] * 3
    assert answers[3].startswith("Too many requests")
