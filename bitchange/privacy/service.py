"""The user's data export and account closure.

Export: one JSON document of everything held on the user (profile, sessions, login history,
orders, their side of each trade, ledger entries, deposits, withdrawals, tickets and their
messages, documents listed by name), queried by the user's own id only. Secrets are left out
(password and TOTP hashes, token hashes, sealed API secrets), and so are what belongs to
others: a trade's counterparty, staff-only notes. Amounts are integers in minor units.

Closure: refused while money or an open order remains (the refusal says what); at zero it
marks the account closed, which keeps every record the exchange must keep and ends logins,
sessions and API keys for good.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, case, or_, select, update

from bitchange.accounts import api_keys, email_change, reauth
from bitchange.accounts.notices import notify
from bitchange.accounts.sessions import revoke_all_sessions
from bitchange.accounts.tables import ApiKey, LoginEvent
from bitchange.accounts.users import AccountError
from bitchange.clock import now
from bitchange.db.models import (
    Asset,
    Balance,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    User,
    UserSession,
)
from bitchange.documents.tables import PrivateFile
from bitchange.kyc.tables import KycDocument, KycSubmission
from bitchange.money import format_asset
from bitchange.staking.tables import StakingPosition
from bitchange.support.tables import SupportMessage, SupportTicket
from bitchange.trading.tables import Order, Trade
from bitchange.wallet.tables import Deposit, Withdrawal

OPEN_ORDER = ("open", "partially_filled")
_SECRET = {"password_hash", "totp_secret", "totp_last_step", "token_hash", "activation_hash",
           "sealed_secret", "token_expires_at"}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(conn: Connection, table: Table, *where: Any, drop: frozenset[str] = frozenset()
          ) -> list[dict[str, Any]]:
    columns = [c for c in table.c if c.name not in _SECRET and c.name not in drop]
    result = conn.execute(select(*columns).where(*where).order_by(table.c.id))
    return [{k: _plain(v) for k, v in row._mapping.items()} for row in result]


def _trades(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """The user's side of each trade: their order, side, role and fee; not the other party."""
    t = Trade.__table__
    maker = t.c.maker_user_id == user_id
    side = case((t.c.taker_user_id == user_id, t.c.taker_side),
                else_=case((t.c.taker_side == "BUY", "SELL"), else_="BUY"))
    rows = conn.execute(select(
        t.c.id, t.c.symbol, side.label("side"),
        case((t.c.taker_user_id == user_id, "taker"), else_="maker").label("role"),
        case((t.c.taker_user_id == user_id, t.c.taker_order_id),
             else_=t.c.maker_order_id).label("order_id"),
        t.c.price, t.c.quantity, t.c.notional,
        case((t.c.taker_user_id == user_id, t.c.taker_fee), else_=t.c.maker_fee).label("fee"),
        t.c.created_at).where(or_(maker, t.c.taker_user_id == user_id)).order_by(t.c.id))
    return [{k: _plain(v) for k, v in row._mapping.items()} for row in rows]


def _ledger(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    e, tx, a = LedgerEntry.__table__, LedgerTransaction.__table__, LedgerAccount.__table__
    rows = conn.execute(select(
        e.c.id, e.c.asset, e.c.bucket, e.c.amount, tx.c.kind, tx.c.memo, tx.c.created_at)
        .join(tx, tx.c.id == e.c.transaction_id).join(a, a.c.id == e.c.account_id)
        .where(a.c.user_id == user_id).order_by(e.c.id))
    return [{k: _plain(v) for k, v in row._mapping.items()} for row in rows]


def _tickets(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    tickets = _rows(conn, SupportTicket.__table__, SupportTicket.__table__.c.user_id == user_id)
    m = SupportMessage.__table__
    for ticket in tickets:
        ticket["messages"] = _rows(conn, m, m.c.ticket_id == ticket["id"], m.c.kind != "note",
                                   drop=frozenset({"author_id"}))
    return tickets


def _documents(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """The files the user uploaded, by name (a KYC document's kind, or "support attachment")
    and type; the files themselves are not copied into the export."""
    f, d = PrivateFile.__table__, KycDocument.__table__
    rows = conn.execute(select(f.c.id, f.c.purpose, f.c.content_type, f.c.size, f.c.created_at,
                               d.c.kind).outerjoin(d, d.c.file_id == f.c.id)
                        .where(f.c.owner_id == user_id).order_by(f.c.id))
    return [{"id": r.id, "name": r.kind or f"{r.purpose} attachment",
             "content_type": r.content_type, "size": r.size,
             "uploaded_at": _plain(r.created_at)} for r in rows]


def export(conn: Connection, user_id: int) -> dict[str, Any]:
    users, sessions = User.__table__, UserSession.__table__
    logins, keys = LoginEvent.__table__, ApiKey.__table__
    orders, kyc = Order.__table__, KycSubmission.__table__
    (profile,) = _rows(conn, users, users.c.id == user_id)
    return {
        "exported_at": now().isoformat(),
        "amounts": "integers in the asset's minor units",
        "profile": profile,
        "sessions": _rows(conn, sessions, sessions.c.user_id == user_id),
        "login_history": _rows(conn, logins, logins.c.user_id == user_id),
        "api_keys": _rows(conn, keys, keys.c.user_id == user_id),
        "orders": _rows(conn, orders, orders.c.user_id == user_id),
        "trades": _trades(conn, user_id),
        "ledger_entries": _ledger(conn, user_id),
        "deposits": _rows(conn, Deposit.__table__, Deposit.__table__.c.user_id == user_id,
                          drop=frozenset({"recorded_by", "approved_by"})),
        "withdrawals": _rows(conn, Withdrawal.__table__,
                             Withdrawal.__table__.c.user_id == user_id,
                             drop=frozenset({"first_approver", "second_approver"})),
        "verification": _rows(conn, kyc, kyc.c.user_id == user_id,
                              drop=frozenset({"reviewed_by"})),
        "tickets": _tickets(conn, user_id),
        "documents": _documents(conn, user_id),
    }


def what_remains(conn: Connection, user_id: int) -> list[str]:
    """Why the account cannot be closed yet: balances, open orders, staked positions."""
    b, a = Balance.__table__, LedgerAccount.__table__
    assets = Asset.__table__
    left = [f"{format_asset(r.available + r.locked, r.precision, r.display_decimals)} {r.asset}"
            for r in conn.execute(select(b.c.asset, b.c.available, b.c.locked,
                                         assets.c.precision, assets.c.display_decimals)
                                  .join(a, a.c.id == b.c.account_id)
                                  .join(assets, assets.c.code == b.c.asset).where(
                a.c.user_id == user_id, (b.c.available + b.c.locked) != 0).order_by(b.c.asset))]
    reasons = [f"Balance: {', '.join(left)}. Withdraw or transfer it first."] if left else []
    o = Order.__table__
    open_orders = conn.execute(select(o.c.symbol).where(
        o.c.user_id == user_id, o.c.status.in_(OPEN_ORDER))).scalars().all()
    if open_orders:
        reasons.append(f"{len(open_orders)} open order(s) in "
                       f"{', '.join(sorted(set(open_orders)))}. Cancel them first.")
    s = StakingPosition.__table__
    staked = conn.scalar(select(s.c.id).where(s.c.user_id == user_id, s.c.status == "active")
                         .limit(1))
    if staked is not None:
        reasons.append("An active staking position. Redeem it first.")
    return reasons


def close_account(conn: Connection, user_id: int, password: str, code: str) -> None:
    """Close the account (password and, when on, 2FA). Raises AccountError saying what remains
    while anything does."""
    users = User.__table__
    conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
    remains = what_remains(conn, user_id)
    if remains:
        raise AccountError("The account cannot be closed yet. " + " ".join(remains))
    reauth.check(conn, user_id, password, code, need_two_factor=False)
    notify(conn, user_id, "account_closed", "Your BitChange account is closed", [
        f"Your account was closed at {now().strftime('%Y-%m-%d %H:%M UTC')}. Nobody can log "
        "in to it or use its API keys any more.",
        "We keep the records the law requires us to keep. If you did not do this, contact "
        "support.",
    ])
    conn.execute(update(users).where(users.c.id == user_id).values(closed_at=now()))
    revoke_all_sessions(conn, user_id)
    api_keys.disable_all(conn, user_id, "account closed")
    email_change.cancel_pending(conn, user_id)
