"""The security centre's and the login history's views, built from a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bitchange import clock, db
from bitchange.accounts import history, security
from bitchange.accounts.sessions import activate_session, resolve_session
from bitchange.accounts.users import create_user
from bitchange.accounts.views import login_history_rows, security_view, when
from tests.accounts.conftest import PASSWORD, UA_CHROME_WIN, UA_FIREFOX

OPENED = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
NEW_PASSWORD = "a-fresh-passphrase-42"


def _signed_in(email: str, ip: str, user_agent: str) -> int:
    """Log in (with the changed password) and return the new session's id."""
    with db.write() as conn:
        outcome = security.login_password(conn, email, NEW_PASSWORD, ip=ip,
                                          user_agent=user_agent)
        current = resolve_session(conn, activate_session(conn, outcome.ticket))
    assert current is not None
    return current.session_id


def test_when_prints_utc_minutes_or_a_dash():
    assert when(OPENED) == "2026-03-04 09:30 UTC"
    assert when(None) == "—"


def test_security_view_shows_the_status_and_marks_this_session(database):
    with db.write() as conn:
        user_id = create_user(conn, "trader@example.com", PASSWORD, verified=True)
    with clock.freeze(lambda: OPENED), db.write() as conn:
        security.change_password(conn, user_id, PASSWORD, NEW_PASSWORD)
    with clock.freeze(lambda: OPENED + timedelta(minutes=5)):
        laptop = _signed_in("trader@example.com", "10.0.0.1", UA_FIREFOX)
    with clock.freeze(lambda: OPENED + timedelta(minutes=10)):
        phone = _signed_in("trader@example.com", "10.0.0.2", UA_CHROME_WIN)
        with db.read() as conn:
            view = security_view(conn, user_id, phone)

    assert (view.email, view.email_verified, view.two_factor) == (
        "trader@example.com", True, False)
    assert (view.recovery_left, view.anti_phishing, view.restrictions) == (0, "", [])
    assert view.password_changed == "2026-03-04 09:30 UTC"
    # The login before the one this page is seen from.
    assert view.last_login == "2026-03-04 09:35 UTC from 10.0.0.1 (Firefox on Linux)"
    assert view.sessions == [
        {"id": str(phone), "device": "Chrome on Windows", "ip": "10.0.0.2",
         "first": "2026-03-04 09:40 UTC", "last": "2026-03-04 09:40 UTC", "current": "yes"},
        {"id": str(laptop), "device": "Firefox on Linux", "ip": "10.0.0.1",
         "first": "2026-03-04 09:35 UTC", "last": "2026-03-04 09:35 UTC", "current": ""},
    ]


def test_security_view_lists_why_an_unverified_user_is_restricted(database):
    with db.write() as conn:
        user_id = create_user(conn, "new@example.com", PASSWORD)
        security.set_anti_phishing_code(conn, user_id, "purple otter")
    with db.read() as conn:
        view = security_view(conn, user_id, current_session_id=0)
    assert view.email_verified is False
    assert view.restrictions == ["Confirm your email address to trade and withdraw."]
    assert view.anti_phishing == "purple otter"
    assert (view.last_login, view.sessions) == ("—", [])


def test_login_history_rows_newest_first_with_a_dash_for_an_unknown_ip(database):
    with db.write() as conn:
        user_id = create_user(conn, "trader@example.com", PASSWORD, verified=True)
        other = create_user(conn, "other@example.com", PASSWORD, verified=True)
        with clock.freeze(lambda: OPENED):
            history.record(conn, user_id, success=False, reason="bad_password", ip="",
                           user_agent=UA_FIREFOX)
        with clock.freeze(lambda: OPENED + timedelta(minutes=1)):
            history.record(conn, user_id, success=True, reason="ok", ip="10.0.0.1",
                           user_agent=UA_CHROME_WIN)
            history.record(conn, other, success=True, reason="ok", ip="10.9.9.9",
                           user_agent=UA_FIREFOX)
    with db.read() as conn:
        rows = login_history_rows(conn, user_id)
    assert rows == [
        {"time": "2026-03-04 09:31 UTC", "result": "success", "reason": "ok",
         "ip": "10.0.0.1", "device": "Chrome on Windows"},
        {"time": "2026-03-04 09:30 UTC", "result": "failed", "reason": "bad_password",
         "ip": "—", "device": "Firefox on Linux"},
    ]
