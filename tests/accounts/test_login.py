"""Login: throttling, enumeration-safe answers, 2FA with replay protection, recovery codes,
alerts on new devices and the "this wasn't me" link, sessions list and revocation."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest

from bitchange import clock, db
from bitchange.accounts import history, security, totp
from bitchange.accounts.sessions import (
    activate_session,
    list_sessions,
    resolve_session,
    revoke_all_sessions,
    revoke_user_session,
)
from bitchange.accounts.users import create_user
from bitchange.mail.outbox import deliver_due
from tests.accounts.conftest import PASSWORD, UA_CHROME_WIN, UA_FIREFOX, token_from
from tests.mailbox import link_to, text_of


def _login(email="trader@example.com", password=PASSWORD, ip="10.0.0.1", ua=UA_FIREFOX):
    with db.write() as conn:
        return security.login_password(conn, email, password, ip=ip, user_agent=ua)


def _session_token(outcome) -> str:
    with db.write() as conn:
        return activate_session(conn, outcome.ticket)


def test_wrong_password_and_unknown_email_get_the_same_answer(user):
    wrong = _login(password="not-the-password-at-all")
    unknown = _login(email="nobody@example.com")
    assert (wrong.status, wrong.message) == (unknown.status, unknown.message)
    assert wrong.message == security.GENERIC_LOGIN_FAILURE


def test_timing_does_not_reveal_whether_the_account_exists(user):
    def cost(email: str) -> float:
        start = time.perf_counter()
        for _ in range(3):
            _login(email=email, password="wrong-password-xyz", ip=f"10.1.{len(email)}.1")
        return time.perf_counter() - start

    existing, missing = cost("trader@example.com"), cost("nobody@example.com")
    # Both pay one argon2 verification per attempt: within a factor of two of each other.
    assert 0.5 < existing / missing < 2.0


def test_failed_logins_lock_the_account_with_growing_delays(user):
    for _ in range(5):
        assert _login(password="wrong-password-xyz").status == "failed"
    locked = _login()  # even the right password waits
    assert locked.status == "throttled"
    assert "Try again in" in locked.message
    # The same for an email without an account: nothing to learn from the lock.
    for _ in range(5):
        _login(email="nobody@example.com", password="wrong-password-xyz", ip="10.0.0.2")
    assert _login(email="nobody@example.com", ip="10.0.0.2").status == "throttled"
    # After the delay (30 s after the fifth failure) one more try is allowed; failing it
    # doubles the delay to 60 s.
    later = clock.now() + timedelta(seconds=31)
    with clock.freeze(lambda: later):
        assert _login(password="wrong-password-xyz").status == "failed"
    with clock.freeze(lambda: later + timedelta(seconds=31)):
        assert _login().status == "throttled"
    with clock.freeze(lambda: later + timedelta(seconds=61)):
        assert _login().status == "ok"


def test_many_failures_from_one_ip_throttle_that_ip(database):
    with db.write() as conn:
        for i in range(21):
            create_user(conn, f"u{i}@example.com", PASSWORD)
    for i in range(20):
        _login(email=f"u{i}@example.com", password="wrong-password-xyz", ip="203.0.113.5")
    assert _login(email="u20@example.com", ip="203.0.113.5").status == "throttled"
    assert _login(email="u20@example.com", ip="198.51.100.7").status == "ok"


def test_login_history_records_success_and_failure(user):
    _login(password="wrong-password-xyz", ip="10.9.9.9", ua=UA_CHROME_WIN)
    _login()
    with db.read() as conn:
        records = history.for_user(conn, user)
    assert [(r.success, r.reason, r.ip, r.device) for r in records] == [
        (True, "ok", "10.0.0.1", "Firefox on Linux"),
        (False, "bad_password", "10.9.9.9", "Chrome on Windows"),
    ]


def _enable_2fa(user_id: int) -> tuple[pyotp.TOTP, list[str]]:
    with db.write() as conn:
        enrolment = totp.begin_enrolment(conn, user_id, "trader@example.com")
    assert enrolment.qr_data_uri.startswith("data:image/svg+xml;base64,")
    assert enrolment.secret in enrolment.uri
    otp = pyotp.TOTP(enrolment.secret)
    with db.write() as conn:
        codes = security.confirm_two_factor(conn, user_id, otp.now())
    assert codes is not None and len(codes) == 10
    return otp, codes


def test_two_factor_is_required_and_a_code_cannot_be_used_twice(user, smtp_server):
    otp, _codes = _enable_2fa(user)
    # The enrolment code itself cannot be replayed at login.
    step = _login()
    assert step.status == "need_code" and step.ticket is None
    with db.write() as conn:
        replay = security.login_code(conn, user, otp.now(), ip="10.0.0.1", user_agent=UA_FIREFOX)
    assert replay.status == "failed"
    # A code of the next step works once, then never again.
    fresh = otp.at(clock.now() + timedelta(seconds=30))
    with db.write() as conn:
        ok = security.login_code(conn, user, fresh, ip="10.0.0.1", user_agent=UA_FIREFOX)
    assert ok.status == "ok" and ok.ticket
    with db.write() as conn:
        again = security.login_code(conn, user, fresh, ip="10.0.0.1", user_agent=UA_FIREFOX)
    assert again.status == "failed"
    deliver_due()
    smtp_server.wait_for("trader@example.com", "Two-factor authentication is on")


def test_recovery_codes_work_once(user):
    _otp, codes = _enable_2fa(user)
    with db.write() as conn:
        assert totp.verify(conn, user, codes[0].upper()) is True
        assert totp.verify(conn, user, codes[0]) is False
        assert totp.remaining_recovery_codes(conn, user) == 9


def test_disabling_2fa_needs_password_and_code(user, smtp_server):
    otp, _ = _enable_2fa(user)
    next_code = otp.at(clock.now() + timedelta(seconds=30))
    with pytest.raises(security.AccountError), db.write() as conn:
        security.disable_two_factor(conn, user, "wrong-password-xyz", next_code)
    with db.write() as conn:
        security.disable_two_factor(conn, user, PASSWORD, next_code)
        assert totp.is_enabled(conn, user) is False
    deliver_due()
    smtp_server.wait_for("trader@example.com", "Two-factor authentication is off")


def test_new_device_alert_and_this_was_not_me(user, smtp_server):
    with db.write() as conn:
        security.set_anti_phishing_code(conn, user, "purple otter")
    first = _login()
    assert first.status == "ok"
    _session_token(first)
    _login()  # same device and IP: no second alert
    deliver_due()
    alert = smtp_server.wait_for("trader@example.com", "New login")
    body = text_of(alert)
    assert "IP address: 10.0.0.1" in body and "Firefox on Linux" in body
    assert "Your anti-phishing code: purple otter" in body
    first_mail = smtp_server.to("trader@example.com")[0]
    assert "anti-phishing code was changed" in str(first_mail["Subject"])
    assert len([m for m in smtp_server.to("trader@example.com")
                if "New login" in str(m["Subject"])]) == 1

    other = _login(ip="198.51.100.20", ua=UA_CHROME_WIN)
    token = _session_token(other)
    deliver_due()
    second_alert = smtp_server.wait_for("trader@example.com", "New login", count=2)
    assert "Chrome on Windows" in text_of(second_alert)

    with db.write() as conn:
        assert security.report_not_me(conn, token_from(link_to(second_alert, "/not-me"))) is True
    with db.read() as conn:
        assert resolve_session(conn, token) is None  # every session ended
        assert list_sessions(conn, user) == []
    assert _login().status == "frozen"  # and nobody can log in until support unfreezes


def test_sessions_list_and_revoke_only_your_own(user):
    with db.write() as conn:
        other_user = create_user(conn, "other@example.com", PASSWORD, verified=True)
    _session_token(_login())
    _session_token(_login(ua=UA_CHROME_WIN, ip="10.0.0.2"))
    _session_token(_login(email="other@example.com"))
    with db.read() as conn:
        mine = list_sessions(conn, user)
        theirs = list_sessions(conn, other_user)
    assert {s.device for s in mine} == {"Firefox on Linux", "Chrome on Windows"}
    with db.write() as conn:
        assert revoke_user_session(conn, user, theirs[0].id) is False  # not theirs to end
        assert revoke_user_session(conn, user, mine[0].id) is True
    with db.read() as conn:
        assert len(list_sessions(conn, other_user)) == 1
        assert len(list_sessions(conn, user)) == 1
    with db.write() as conn:
        assert revoke_all_sessions(conn, user) == 1
