"""Ledger accounts: one per user, plus system accounts for the outside world and fees."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select

from bitchange.db.models import LedgerAccount
from bitchange.db.prepared import Prepared

EXTERNAL = "external"  # the outside world: deposits come from it, withdrawals go to it
FEES = "fees"  # trading and withdrawal fees collected by the exchange
SYSTEM_ACCOUNTS = {EXTERNAL: True, FEES: False}  # code -> may go negative

_accounts = LedgerAccount.__table__
_SYSTEM_ACCOUNT = select(_accounts.c.id).where(_accounts.c.system_code == bindparam("code"))
_USER_ACCOUNT = Prepared(select(_accounts.c.id).where(_accounts.c.user_id == bindparam("user_id")))
# (database URL, code) -> id. System accounts are created by `migrate` and never change, and
# they sit on the hot path of every trade.
_system_ids: dict[tuple[str, str], int] = {}


def ensure_system_accounts(conn: Connection, extra: dict[str, bool] | None = None) -> None:
    wanted = SYSTEM_ACCOUNTS | (extra or {})
    existing = set(conn.scalars(select(_accounts.c.system_code).where(
        _accounts.c.system_code.is_not(None))))
    for code, allow_negative in wanted.items():
        if code not in existing:
            conn.execute(insert(_accounts).values(system_code=code, allow_negative=allow_negative))


def system_account(conn: Connection, code: str) -> int:
    key = (str(conn.engine.url), code)
    account_id = _system_ids.get(key)
    if account_id is None:
        account_id = conn.scalar(_SYSTEM_ACCOUNT, {"code": code})
        if account_id is None:
            raise LookupError(f"System account {code!r} does not exist; run migrate")
        _system_ids[key] = account_id
    return account_id


def user_account(conn: Connection, user_id: int) -> int | None:
    """The user's ledger account, or None before its first use (reading only)."""
    return _USER_ACCOUNT.scalar(conn, {"user_id": user_id})


def account_for_user(conn: Connection, user_id: int) -> int:
    """The user's ledger account, created on first use."""
    account_id = user_account(conn, user_id)
    if account_id is None:
        account_id = conn.execute(insert(_accounts).values(user_id=user_id)).inserted_primary_key[0]
    return account_id
