"""The admin account screens' rows (users list, one user, audit log), built from a real
database without Reflex."""

from __future__ import annotations

from datetime import UTC, datetime

from bitchange import db, ledger
from bitchange.accounts import admin, admin_views, security
from bitchange.accounts.users import create_user
from bitchange.clock import freeze
from tests.accounts.conftest import PASSWORD, UA_FIREFOX

MOMENT = datetime(2031, 5, 6, 7, 8, tzinfo=UTC)


def test_users_list_and_one_user_as_the_admin_sees_them(database):
    with freeze(lambda: MOMENT), db.write() as conn:
        ops = create_user(conn, "ops@example.com", PASSWORD, is_admin=True, verified=True)
        trader = create_user(conn, "trader@example.com", PASSWORD, verified=True)
        ledger.credit_deposit(conn, ledger.account_for_user(conn, trader), "BTC", 150_000_000)
        security.login_password(conn, "trader@example.com", "wrong-password-000", ip="10.0.0.9",
                                user_agent=UA_FIREFOX)
        admin.freeze(conn, ops, trader, ip="192.0.2.1", reason="chargeback review")
    with db.read() as conn:
        rows = admin_views.user_rows(conn, "trad")
        page = admin_views.user_page(conn, trader)
        missing = admin_views.user_page(conn, trader + 1000)
    assert rows == [{"id": str(trader), "email": "trader@example.com",
                     "href": f"/admin/user?id={trader}", "role": "trader", "verified": "yes",
                     "tfa": "off", "state": "frozen"}]
    assert page is not None and missing is None
    assert page.profile == {"id": str(trader), "email": "trader@example.com", "role": "trader",
                            "verified": "yes", "tfa": "off", "state": "frozen",
                            "frozen_reason": "chargeback review",
                            "created": "2031-05-06 07:08 UTC"}
    assert {"asset": "BTC", "available": "1.50000000", "locked": "0.00000000"} in page.balances
    assert page.sessions == []
    assert [(r["result"], r["ip"], r["time"]) for r in page.logins] == [
        ("bad_password", "10.0.0.9", "2031-05-06 07:08 UTC")]


def test_audit_rows_follow_the_filters(database):
    with freeze(lambda: MOMENT), db.write() as conn:
        ops = create_user(conn, "ops@example.com", PASSWORD, is_admin=True, verified=True)
        trader = create_user(conn, "trader@example.com", PASSWORD, verified=True)
        admin.freeze(conn, ops, trader, ip="192.0.2.1", reason="chargeback review")
        admin.unfreeze(conn, ops, trader, ip="192.0.2.1")
    with db.read() as conn:
        freezes = admin_views.audit_rows(conn, action="freeze", admin_email="", target="")
        nobody = admin_views.audit_rows(conn, action="", admin_email="else@example.com",
                                        target="")
    assert freezes == [{"time": "2031-05-06 07:08 UTC", "admin": "ops@example.com",
                        "action": "freeze", "target": f"user:{trader} trader@example.com",
                        "detail": "chargeback review", "ip": "192.0.2.1"}]
    assert nobody == []
