"""Password reset by email (enumeration-safe, expiring, single use), password change, reuse."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from bitchange import clock, db
from bitchange.accounts import security
from bitchange.accounts.sessions import activate_session, resolve_session
from bitchange.accounts.users import AccountError
from bitchange.mail.outbox import deliver_due
from tests.accounts.conftest import PASSWORD, UA_FIREFOX, token_from
from tests.mailbox import link_to, text_of


def _request(email: str, ip: str = "10.0.0.1") -> str:
    with db.write() as conn:
        return security.request_reset(conn, email, ip=ip)


def _logged_in_token() -> str:
    with db.write() as conn:
        outcome = security.login_password(conn, "trader@example.com", PASSWORD, ip="10.0.0.1",
                                          user_agent=UA_FIREFOX)
        return activate_session(conn, outcome.ticket)


def test_reset_answers_the_same_for_unknown_emails(user, smtp_server):
    assert _request("trader@example.com") == _request("nobody@example.com") == \
        security.CHECK_INBOX
    deliver_due()
    smtp_server.wait_for("trader@example.com", "Reset your BitChange password")
    assert smtp_server.to("nobody@example.com") == []


def test_reset_from_the_email_ends_sessions_and_sends_a_notice(user, smtp_server):
    session = _logged_in_token()
    _request("trader@example.com")
    deliver_due()
    link = link_to(smtp_server.wait_for("trader@example.com", "Reset"), "/reset-password")
    token = token_from(link)
    # A refused new password does not use up the link.
    with pytest.raises(AccountError, match="too common"), db.write() as conn:
        security.reset_password(conn, token, "password1234")
    with db.write() as conn:
        security.reset_password(conn, token, "a-brand-new-passphrase")
    with db.read() as conn:
        assert resolve_session(conn, session) is None
        assert security.authenticate(conn, "trader@example.com", "a-brand-new-passphrase")
    # Single use.
    with pytest.raises(AccountError, match="invalid, used or expired"), db.write() as conn:
        security.reset_password(conn, token, "yet-another-passphrase")
    deliver_due()
    notice = smtp_server.wait_for("trader@example.com", "Your password was changed")
    assert "reset with an emailed link" in text_of(notice)


def test_reset_link_expires_after_thirty_minutes(user, smtp_server):
    _request("trader@example.com")
    deliver_due()
    token = token_from(link_to(smtp_server.wait_for("trader@example.com", "Reset"), "/reset"))
    later = clock.now() + timedelta(minutes=30, seconds=1)
    with clock.freeze(lambda: later), pytest.raises(AccountError), db.write() as conn:
        security.reset_password(conn, token, "a-brand-new-passphrase")


def test_reset_requests_are_throttled_the_same_for_any_email(user):
    for email in ("trader@example.com", "nobody@example.com"):
        answers = [_request(email, ip=f"10.0.{len(email)}.1") for _ in range(4)]
        assert answers[:3] == [security.CHECK_INBOX] * 3
        assert answers[3].startswith("Too many requests")


def test_change_password_needs_the_current_one_and_ends_all_sessions(user, smtp_server):
    session = _logged_in_token()
    with pytest.raises(AccountError, match="current password"), db.write() as conn:
        security.change_password(conn, user, "wrong-password-xyz", "a-brand-new-passphrase")
    with db.write() as conn:
        security.change_password(conn, user, PASSWORD, "a-brand-new-passphrase")
    with db.read() as conn:
        assert resolve_session(conn, session) is None
    deliver_due()
    smtp_server.wait_for("trader@example.com", "Your password was changed")


def test_the_last_five_passwords_cannot_be_reused(user):
    passwords = [PASSWORD] + [f"rotation-passphrase-{i}" for i in range(1, 6)]
    for previous, new in pairwise(passwords):
        with db.write() as conn:
            security.change_password(conn, user, previous, new)
    current = passwords[-1]
    for reused in passwords[-5:]:  # the current one and the four before it
        with pytest.raises(AccountError, match="not used recently"), db.write() as conn:
            security.change_password(conn, user, current, reused)
    with db.write() as conn:  # the sixth-latest is allowed again
        security.change_password(conn, user, current, passwords[0])
