"""Admin actions on accounts: each one audited with who, what, target, when and IP."""

from __future__ import annotations

from bitchange import db
from bitchange.accounts import admin, audit, security, totp
from bitchange.accounts.sessions import activate_session, resolve_session
from bitchange.accounts.users import create_user
from tests.accounts.conftest import PASSWORD, UA_FIREFOX


def test_freeze_unfreeze_end_sessions_reset_2fa_are_audited(user):
    with db.write() as conn:
        admin_id = create_user(conn, "ops@example.com", PASSWORD, is_admin=True, verified=True)
        totp.enable_with_secret(conn, user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        ticket = security.login_password(conn, "trader@example.com", PASSWORD, ip="10.0.0.1",
                                         user_agent=UA_FIREFOX)
    assert ticket.status == "need_code"
    with db.write() as conn:
        admin.reset_two_factor(conn, admin_id, user, ip="192.0.2.1")
        outcome = security.login_password(conn, "trader@example.com", PASSWORD, ip="10.0.0.1",
                                          user_agent=UA_FIREFOX)
        token = activate_session(conn, outcome.ticket)
    assert outcome.status == "ok"
    with db.write() as conn:
        assert admin.end_sessions(conn, admin_id, user, ip="192.0.2.1") == 1
        assert resolve_session(conn, token) is None
        admin.freeze(conn, admin_id, user, ip="192.0.2.1", reason="chargeback review")
    with db.write() as conn:
        frozen = security.login_password(conn, "trader@example.com", PASSWORD, ip="10.0.0.1",
                                         user_agent=UA_FIREFOX)
    assert frozen.status == "frozen"
    with db.write() as conn:
        admin.unfreeze(conn, admin_id, user, ip="192.0.2.1")
    with db.read() as conn:
        entries = audit.search(conn)
        detail = admin.user_detail(conn, user)
        assert [u.email for u in admin.search_users(conn, "trad")] == ["trader@example.com"]
        freezes = audit.search(conn, action="freeze")
        recorded_actions = audit.actions(conn)
    assert [e.action for e in entries] == ["unfreeze", "freeze", "end_sessions", "reset_2fa"]
    assert {(e.admin_email, e.ip) for e in entries} == {("ops@example.com", "192.0.2.1")}
    assert entries[1].target == f"user:{user} trader@example.com"
    assert entries[1].detail == "chargeback review"
    assert [e.action for e in freezes] == ["freeze"]
    assert recorded_actions == ["end_sessions", "freeze", "reset_2fa", "unfreeze"]
    assert detail.user.frozen is False and detail.user.two_factor is False
    assert [(r.success, r.reason) for r in detail.logins] == [(False, "frozen"), (True, "ok")]
