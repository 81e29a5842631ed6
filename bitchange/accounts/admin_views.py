"""What the admin screens on accounts show: the users list, one user (profile, sessions, logins,
balances) and the audit log, as rows of display strings built from a connection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange import routes
from bitchange.accounts import admin, api_keys, audit
from bitchange.clock import when
from bitchange.ledger import account_for_user, balances_of
from bitchange.trading.markets import assets

Row = dict[str, str]


def _flags(u: admin.UserRow) -> Row:
    return {"role": "admin" if u.is_admin else "trader",
            "verified": "yes" if u.verified else "no",
            "tfa": "on" if u.two_factor else "off",
            "state": "frozen" if u.frozen else "active"}


def user_rows(conn: Connection, query: str) -> list[Row]:
    """The users matching `query` (email or id), each linking to its admin page."""
    return [{"id": str(u.id), "email": u.email, "href": routes.admin_user(u.id), **_flags(u)}
            for u in admin.search_users(conn, query)]


@dataclass(frozen=True)
class UserPage:
    profile: Row
    sessions: list[Row]
    logins: list[Row]
    balances: list[Row]
    keys: list[Row]  # the user's API keys


def user_page(conn: Connection, user_id: int) -> UserPage | None:
    """One user as the admin sees them; None if there is no such user."""
    detail = admin.user_detail(conn, user_id)
    if detail is None:
        return None
    u = detail.user
    # Reading only: the ledger account exists for every user created by create_user.
    money = balances_of(conn, account_for_user(conn, u.id))
    return UserPage(
        profile={"id": str(u.id), "email": u.email, **_flags(u),
                 "frozen_reason": detail.frozen_reason, "created": when(u.created_at)},
        sessions=[{"device": s.device, "ip": s.ip, "first": when(s.first_seen),
                   "last": when(s.last_seen)} for s in detail.sessions],
        logins=[{"time": when(r.created_at), "result": "success" if r.success else r.reason,
                 "ip": r.ip, "device": r.device} for r in detail.logins],
        balances=[{"asset": code, "available": info.format(money.get(code, (0, 0))[0]),
                   "locked": info.format(money.get(code, (0, 0))[1])}
                  for code, info in assets(conn).items()],
        keys=api_keys.key_rows(conn, u.id),
    )


def audit_rows(conn: Connection, *, action: str, admin_email: str, target: str) -> list[Row]:
    """The audit entries matching the filters, newest first."""
    return [{"time": when(e.created_at), "admin": e.admin_email, "action": e.action,
             "target": e.target, "detail": e.detail, "ip": e.ip}
            for e in audit.search(conn, action=action, admin=admin_email, target=target)]
