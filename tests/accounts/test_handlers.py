"""The Reflex handlers refuse unauthenticated and cross-user calls when invoked directly (as a
forged websocket event would invoke them), with only a cookie and event arguments to go on."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import reflex as rx
from reflex.istate.data import RouterData
from sqlalchemy import func, select

from bitchange import db
from bitchange.accounts import audit, history, security, totp
from bitchange.accounts.sessions import activate_session, cookie_name, list_sessions
from bitchange.accounts.users import authenticate, create_user, get_user
from bitchange.db.models import User
from bitchange.mail.outbox import enqueue
from bitchange.mail.templates import render
from bitchange.state.admin.audit import AdminAuditState
from bitchange.state.admin.outbox import AdminOutboxState
from bitchange.state.admin.user import AdminUserState
from bitchange.state.admin.users import AdminUsersState
from bitchange.state.login import LoginState
from bitchange.state.security import SecurityState
from bitchange.state.signup import SignupState
from tests.accounts.conftest import PASSWORD, UA_FIREFOX


class Direct:
    """A state whose plain handlers, called directly, run to completion as the event processor
    runs them (`@event` makes every handler a coroutine: checked arguments, work off the loop)."""

    def __init__(self, state: rx.State) -> None:
        object.__setattr__(self, "state", state)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.state, name)
        handler = type(self.state).event_handlers.get(name)
        if handler is None or inspect.iscoroutinefunction(inspect.unwrap(handler.fn)):
            return value  # the test awaits an async handler itself

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            return asyncio.run(result) if inspect.iscoroutine(result) else result
        return call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.state, name, value)


def state_of(cls: type[rx.State], token: str = "", *, query: str = "") -> Any:
    """A state instance as the event processor would build it for one browser."""
    root = rx.State(_reflex_internal_init=True)
    cookie = f"{cookie_name()}={token}" if token else ""
    root.router_data = {
        "headers": {"cookie": cookie, "user-agent": UA_FIREFOX, "origin": "http://localhost"},
        "ip": "192.0.2.44", "pathname": "/x", "asPath": f"/x{query}",
        "query": dict(pair.split("=") for pair in query.lstrip("?").split("&") if pair),
    }
    root.router = RouterData.from_router_data(root.router_data)
    return Direct(root.get_substate(cls.get_full_name().split(".")))


def session_for(email: str, code: str | None = None) -> str:
    with db.write() as conn:
        outcome = security.login_password(conn, email, PASSWORD, ip="10.0.0.1",
                                          user_agent=UA_FIREFOX)
        if outcome.status == "need_code":
            outcome = security.login_code(conn, outcome.user_id, code or "", ip="10.0.0.1",
                                          user_agent=UA_FIREFOX)
        return activate_session(conn, outcome.ticket)


def test_security_handlers_refuse_anonymous_callers(user):
    token = session_for("trader@example.com")
    with db.read() as conn:
        [session] = list_sessions(conn, user)
    anonymous = state_of(SecurityState)
    anonymous.revoke_session(session.id)
    anonymous.revoke_other_sessions()
    anonymous.start_two_factor()
    anonymous.set_anti_phishing({"code": "hijacked"})
    assert anonymous.access == "denied"
    assert anonymous.sessions == [] and anonymous.enrol_secret == ""
    with db.read() as conn:
        assert [s.id for s in list_sessions(conn, user)] == [session.id]
        assert totp.is_enabled(conn, user) is False
        assert security.overview(conn, user).anti_phishing_code == ""
    # A garbage cookie is no better than none.
    state_of(SecurityState, token + "x").revoke_other_sessions()
    with db.read() as conn:
        assert len(list_sessions(conn, user)) == 1


def test_another_users_session_cannot_be_revoked(user):
    with db.write() as conn:
        victim = create_user(conn, "victim@example.com", PASSWORD, verified=True)
    attacker_token = session_for("trader@example.com")
    session_for("victim@example.com")
    with db.read() as conn:
        [victim_session] = list_sessions(conn, victim)
    attacker = state_of(SecurityState, attacker_token)
    attacker.revoke_session(victim_session.id)
    assert attacker.error == "No such session."
    attacker.revoke_other_sessions()  # only the attacker's own others
    with db.read() as conn:
        assert [s.id for s in list_sessions(conn, victim)] == [victim_session.id]
    # The attacker's view lists only their own session.
    attacker.load()
    assert [s["id"] for s in attacker.sessions] != [str(victim_session.id)]
    assert len(attacker.sessions) == 1


def test_admin_actions_refuse_non_admins_and_admins_without_2fa(user):
    with db.write() as conn:
        create_user(conn, "ops@example.com", PASSWORD, is_admin=True, verified=True)
    trader = session_for("trader@example.com")
    admin_without_2fa = session_for("ops@example.com")
    for token in ("", trader, admin_without_2fa):
        target = state_of(AdminUserState, token, query=f"?id={user}")
        target.freeze()
        target.end_sessions()
        target.reset_two_factor()
        assert target.access == "denied" and target.profile == {}
        listing = state_of(AdminUsersState, token)
        listing.search({"q": "trader"})
        assert listing.rows == []
        log = state_of(AdminAuditState, token)
        log.load()
        assert log.rows == []
    with db.read() as conn:
        assert get_user(conn, user).frozen is False
        assert audit.search(conn) == []
        assert len(list_sessions(conn, user)) == 1


def test_outbox_page_refuses_non_admins(user):
    with db.write() as conn:
        enqueue(conn, to="x@example.com", kind="t", message=render("secret link", ["token=1"]))
    page = state_of(AdminOutboxState, session_for("trader@example.com"))
    page.load()
    assert page.access == "denied" and page.rows == []


def test_an_admin_with_2fa_can_act_and_it_is_audited(user):
    import pyotp

    with db.write() as conn:
        admin_id = create_user(conn, "ops@example.com", PASSWORD, is_admin=True, verified=True)
        totp.enable_with_secret(conn, admin_id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    token = session_for("ops@example.com", pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now())
    target = state_of(AdminUserState, token, query=f"?id={user}")
    target.load()
    assert target.access == "admin" and target.profile["email"] == "trader@example.com"
    assert {b["asset"] for b in target.balances} >= {"BTC", "USDT"}
    target.freeze()
    assert target.profile["state"] == "frozen"
    with db.read() as conn:
        [entry] = audit.search(conn)
    assert (entry.admin_email, entry.action, entry.ip) == ("ops@example.com", "freeze",
                                                           "192.0.2.44")


def test_an_admin_action_refused_is_an_error_and_the_next_result_replaces_it(user):
    import pyotp

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    with db.write() as conn:
        admin_id = create_user(conn, "ops@example.com", PASSWORD, is_admin=True, verified=True)
        totp.enable_with_secret(conn, admin_id, secret)
    token = session_for("ops@example.com", pyotp.TOTP(secret).now())
    own = state_of(AdminUserState, token, query=f"?id={admin_id}")
    own.load()
    own.freeze()
    assert (own.notice, own.error) == ("", "You cannot freeze your own account.")
    own.end_sessions()
    assert (own.notice, own.error) == ("Done: end sessions.", "")


def test_the_second_login_step_needs_the_first(user):
    with db.write() as conn:
        totp.enable_with_secret(conn, user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    import pyotp

    login = state_of(LoginState)
    # A forged "submit_code" without a password step: nothing happens.
    assert login.submit_code({"code": pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now()}) is None
    assert "timed out" in login.error
    from bitchange.accounts.tables import LoginEvent

    with db.read() as conn:
        assert conn.execute(select(LoginEvent.__table__)).all() == []


SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _admin_token() -> str:
    import pyotp

    with db.write() as conn:
        admin_id = create_user(conn, "ops@example.com", PASSWORD, is_admin=True, verified=True)
        totp.enable_with_secret(conn, admin_id, SECRET)
    return session_for("ops@example.com", pyotp.TOTP(SECRET).now())


def test_user_ids_past_the_columns_are_not_found(user):
    """Past 2^63 SQLite's driver raised OverflowError; `isdigit()` let '²' reach int()."""
    token = _admin_token()
    for huge in ("99999999999999999999", str(2**31)):
        page = state_of(AdminUserState, token, query=f"?id={huge}")
        page.load()
        assert page.access == "admin" and page.found is False and page.profile == {}
        page.freeze()
        assert page.found is False
    listing = state_of(AdminUsersState, token)
    for query in ("99999999999999999999", "\u00b2", "\u0661"):  # superscript 2, Arabic-Indic 1
        listing.search({"q": query})
        assert listing.rows == []
    listing.search({"q": str(user)})
    assert [r["email"] for r in listing.rows] == ["trader@example.com"]
    own = state_of(SecurityState, session_for("trader@example.com"))
    own.revoke_session(2**64)
    assert own.error == "No such session."
    with db.read() as conn:
        assert get_user(conn, user).frozen is False
        assert len(list_sessions(conn, user)) == 1
        assert [e.action for e in audit.search(conn)] == []


LONG = "x" * 4097  # passlib raised PasswordSizeError past 4,096 characters
TOO_LONG = "Password must be at most 4,096 characters"


def test_a_password_past_the_limit_is_refused_with_a_reason_everywhere(user):
    import pyotp

    for email in ("trader@example.com", "nobody@example.com"):  # the same answer for both
        login = state_of(LoginState)
        login.submit({"email": email, "password": LONG})
        assert login.error == TOO_LONG and login.step == "password"
    with db.read() as conn:  # counted as a failed attempt, like any wrong password
        assert [(r.success, r.reason) for r in history.for_user(conn, user)] == [
            (False, "bad_password")]
    signup = state_of(SignupState)
    signup.submit({"email": "new@example.com", "password": LONG, "confirm": LONG})
    assert signup.error == TOO_LONG and signup.done == ""
    signup.submit({"email": "new@example.com", "password": "a-long-password-1",
                   "confirm": "a-long-password-2"})
    assert signup.error == "The two passwords do not match." and signup.done == ""
    token = session_for("trader@example.com")
    page = state_of(SecurityState, token)
    page.change_password({"current": LONG, "new": "another-long-password-1",
                          "confirm": "another-long-password-1"})
    assert page.error == TOO_LONG
    page.change_password({"current": PASSWORD, "new": LONG, "confirm": LONG})
    assert page.error == TOO_LONG
    with db.write() as conn:
        totp.enable_with_secret(conn, user, SECRET)
    page.disable_two_factor({"password": LONG, "code": pyotp.TOTP(SECRET).now()})
    assert page.error == TOO_LONG
    page.change_password({"current": "\ud800", "new": "x", "confirm": "x"})  # a lone surrogate
    assert page.error == "Password contains characters that cannot be used"
    with db.read() as conn:
        assert totp.is_enabled(conn, user) and len(list_sessions(conn, user)) == 1
        assert conn.scalar(select(func.count()).select_from(User.__table__)) == 1
        assert authenticate(conn, "trader@example.com", PASSWORD) is not None  # unchanged
