"""Atomic money operations. Each takes the caller's open write transaction (`db.write()`), so a
service can combine several (hold, settle, release...) into one commit; if any raises, the caller's
transaction rolls back and nothing of it persists.

Lock order (PostgreSQL): an UPDATE locks a balance row when it first touches it, so two
transactions touching the same rows in different orders (A->B while B->A; two markets settling
the same traders) deadlock. Every operation therefore locks the rows it touches first, all at
once in (account, asset) order (`lock_balances`); a transaction of several operations locks the
rows of all of them up front, before the first change.

Statements are SQLAlchemy Core built once at import: this is the hot path of order placement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    insert,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bitchange.clock import now
from bitchange.db.models import Balance, LedgerAccount, LedgerEntry, LedgerTransaction
from bitchange.db.prepared import Prepared, insert_row
from bitchange.ledger.accounts import EXTERNAL, FEES, system_account, user_account
from bitchange.ledger.errors import InsufficientFunds, LedgerError, UnbalancedTransaction

AVAILABLE = "available"
LOCKED = "locked"

_balances = Balance.__table__
_accounts = LedgerAccount.__table__
_entries = LedgerEntry.__table__
_transactions = LedgerTransaction.__table__


# A balance's two buckets changed by one statement (either change may be 0): a hold, a
# release or one side of a fill moves a balance between them, on every order.
_UPDATE_BALANCE = Prepared(
    update(_balances)
    .where(
        and_(
            _balances.c.account_id == bindparam("b_account"),
            _balances.c.asset == bindparam("b_asset"),
            or_(_balances.c.allow_negative,
                and_(_balances.c.available + bindparam("b_available") >= 0,
                     _balances.c.locked + bindparam("b_locked") >= 0)),
        )
    )
    .values(available=_balances.c.available + bindparam("b_available"),
            locked=_balances.c.locked + bindparam("b_locked"))
)
_INSERT_BALANCE = insert(_balances).from_select(
    ["account_id", "asset", "available", "locked", "allow_negative"],
    select(
        _accounts.c.id,
        bindparam("b_asset"),
        bindparam("b_available"),
        bindparam("b_locked"),
        _accounts.c.allow_negative,
    ).where(
        and_(
            _accounts.c.id == bindparam("b_account"),
            or_(_accounts.c.allow_negative, literal_column("1") == bindparam("b_positive")),
        )
    ),
).returning(_balances.c.account_id)
_INSERT_TRANSACTION = insert_row(
    _transactions, ["kind", "ref_type", "ref_id", "memo", "created_at"], returning="id")
_INSERT_ENTRIES = insert_row(
    _entries, ["transaction_id", "account_id", "asset", "bucket", "amount"])


@dataclass(frozen=True, slots=True)
class Movement:
    """A signed change of one bucket of one balance."""

    account_id: int
    asset: str
    bucket: str
    amount: int


def _check_amount(amount: int) -> None:
    if type(amount) is not int or amount <= 0:
        raise LedgerError(f"Amount must be a positive integer of minor units, got {amount!r}")


def _check_balanced(movements: list[Movement]) -> None:
    totals: dict[str, int] = defaultdict(int)
    for m in movements:
        if type(m.amount) is not int or m.amount == 0:
            raise UnbalancedTransaction(f"Entry amount must be a non-zero int: {m!r}")
        if m.bucket not in (AVAILABLE, LOCKED):
            raise UnbalancedTransaction(f"Unknown bucket {m.bucket!r}")
        totals[m.asset] += m.amount
    if not movements or any(totals.values()):
        raise UnbalancedTransaction(f"Entries must sum to zero per asset: {dict(totals)}")


_KEY = tuple_(_balances.c.account_id, _balances.c.asset)
_LOCKED = "bitchange_locked_balances"  # key in the connection's `info`


def _lock_rows(conn: Connection, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
    # The rows are locked in the ORDER BY's order (PostgreSQL locks above the sort). NO KEY
    # UPDATE is what the UPDATE itself takes, and it lets inserts referencing the row proceed.
    rows = conn.execute(select(_balances.c.account_id, _balances.c.asset).where(_KEY.in_(keys))
                        .order_by(_balances.c.account_id, _balances.c.asset)
                        .with_for_update(key_share=True))
    return {(account_id, asset) for account_id, asset in rows}


def _locked_in(conn: Connection) -> set[tuple[int, str]]:
    """The balances this connection's current transaction has locked (see `forget_locks`)."""
    transaction = conn.get_transaction()
    held = conn.info.get(_LOCKED)
    if held is None or held[0] is not transaction:  # a new transaction holds nothing yet
        held = conn.info[_LOCKED] = (transaction, set())
    return held[1]


def forget_locks(conn: Connection) -> None:
    """After a rollback to a savepoint, which on PostgreSQL releases the row locks taken
    since: the next `lock_balances` locks its rows again rather than trusting the record."""
    conn.info.pop(_LOCKED, None)


def lock_balances(conn: Connection, keys: Iterable[tuple[int, str]]) -> None:
    """Lock the balance rows of these (account, asset) pairs until the transaction ends, in one
    canonical order, creating the missing ones at zero (so a first credit cannot collide with a
    concurrent one on the primary key). Rows this transaction already locked are skipped, so a
    service locks everything its operations will touch up front and each operation's own call
    costs nothing. SQLite needs none of it: `BEGIN IMMEDIATE` holds the database's write lock."""
    if conn.dialect.name != "postgresql":
        return
    locked = _locked_in(conn)
    wanted = sorted(set(keys) - locked)
    if not wanted:
        return
    found = _lock_rows(conn, wanted)
    missing = [key for key in wanted if key not in found]
    for account_id, asset in missing:
        conn.execute(pg_insert(_balances).from_select(
            ["account_id", "asset", "available", "locked", "allow_negative"],
            select(_accounts.c.id, literal(asset), literal(0), literal(0),
                   _accounts.c.allow_negative).where(_accounts.c.id == account_id),
        ).on_conflict_do_nothing())
    if missing:
        _lock_rows(conn, missing)  # our inserts are ours; this locks those another made first
    locked.update(wanted)


def _apply(conn: Connection, m: Movement) -> None:
    params = {"b_account": m.account_id, "b_asset": m.asset,
              "b_available": m.amount if m.bucket == AVAILABLE else 0,
              "b_locked": m.amount if m.bucket == LOCKED else 0}
    if _UPDATE_BALANCE.rowcount(conn, params) == 1:
        return
    exists = conn.scalar(
        select(_balances.c.account_id).where(
            _balances.c.account_id == m.account_id, _balances.c.asset == m.asset
        )
    )
    if exists is None:
        inserted = conn.execute(_INSERT_BALANCE,
                                params | {"b_positive": 1 if m.amount > 0 else 0})
        # RETURNING, not rowcount: psycopg 3 reports -1 for INSERT ... SELECT.
        if inserted.first() is not None:
            return
    raise InsufficientFunds(m.account_id, m.asset, m.bucket, -m.amount)


def _apply_netted(conn: Connection, movements: list[Movement]) -> None:
    """One change per balance (both buckets in one statement), those with a debit first.
    Inside one database transaction only the committed result has to be non-negative, so
    netting a step's movements is safe. A balance the statement cannot change (a debit that
    would overdraw, a row not there yet) goes bucket by bucket, which says which one
    overdraws or creates the row."""
    totals: dict[tuple[int, str], list[int]] = {}
    for m in movements:
        change = totals.setdefault((m.account_id, m.asset), [0, 0])
        change[m.bucket == LOCKED] += m.amount
    for (account_id, asset), (available, locked) in sorted(
            totals.items(), key=lambda item: min(item[1]) >= 0):
        if not available and not locked:
            continue
        params = {"b_account": account_id, "b_asset": asset, "b_available": available,
                  "b_locked": locked}
        if _UPDATE_BALANCE.rowcount(conn, params) == 1:
            continue
        for m in sorted((Movement(account_id, asset, bucket, amount)
                         for bucket, amount in ((AVAILABLE, available), (LOCKED, locked))
                         if amount), key=lambda m: m.amount > 0):
            _apply(conn, m)


class Journal:
    """The steps of one business operation (placing an order: the hold, then every fill's
    settlement and the release) applied to the balances as they happen and written as ONE
    ledger transaction when the operation closes. Each step must balance on its own; the
    journal keeps every movement as an entry. Fewer statements than a transaction per step."""

    __slots__ = ("conn", "entries", "kind", "memo", "ref_id", "ref_type")

    def __init__(self, conn: Connection, kind: str, *, ref_type: str = "",
                 ref_id: str | int = "", memo: str = "") -> None:
        self.conn, self.kind, self.memo = conn, kind, memo
        self.ref_type, self.ref_id = ref_type, str(ref_id)
        self.entries: list[Movement] = []

    def apply(self, movements: list[Movement]) -> None:
        """Apply one balanced step now; raises `InsufficientFunds` before writing anything of
        it when a debit would overdraw."""
        _check_balanced(movements)
        lock_balances(self.conn, ((m.account_id, m.asset) for m in movements))
        _apply_netted(self.conn, movements)
        self.entries.extend(movements)

    def close(self) -> int | None:
        """Write the ledger transaction and its entries; returns its id (None if empty)."""
        if not self.entries:
            return None
        ordered = sorted(self.entries, key=lambda m: m.amount > 0)
        tx_id = _INSERT_TRANSACTION.scalar(self.conn, {
            "kind": self.kind, "ref_type": self.ref_type, "ref_id": self.ref_id,
            "memo": self.memo, "created_at": now()})
        _INSERT_ENTRIES.executemany(self.conn, [
            {"transaction_id": tx_id, "account_id": m.account_id, "asset": m.asset,
             "bucket": m.bucket, "amount": m.amount}
            for m in ordered
        ])
        self.entries = []
        return tx_id


def post(
    conn: Connection,
    kind: str,
    movements: Iterable[Movement],
    *,
    ref_type: str = "",
    ref_id: str | int = "",
    memo: str = "",
) -> int:
    """Write one balanced ledger transaction and apply it to the balances; returns its id.

    Debits are applied before credits so an insufficient balance fails before anything else.
    """
    journal = Journal(conn, kind, ref_type=ref_type, ref_id=ref_id, memo=memo)
    journal.apply(list(movements))
    tx_id = journal.close()
    assert tx_id is not None  # _check_balanced refuses an empty list
    return tx_id


def hold_movements(account_id: int, asset: str, amount: int) -> list[Movement]:
    _check_amount(amount)
    return [Movement(account_id, asset, AVAILABLE, -amount),
            Movement(account_id, asset, LOCKED, amount)]


def release_movements(account_id: int, asset: str, amount: int) -> list[Movement]:
    _check_amount(amount)
    return [Movement(account_id, asset, LOCKED, -amount),
            Movement(account_id, asset, AVAILABLE, amount)]


def settle_movements(conn: Connection, from_account: int, to_account: int, asset: str,
                     amount: int, fee: int = 0) -> list[Movement]:
    """`amount` of one owner's locked funds to another's available, `fee` of it to the fee
    account instead."""
    _check_amount(amount)
    if type(fee) is not int or not 0 <= fee <= amount:
        raise LedgerError(f"Fee must be an int between 0 and the amount, got {fee!r}")
    movements = [Movement(from_account, asset, LOCKED, -amount)]
    if amount - fee:
        movements.append(Movement(to_account, asset, AVAILABLE, amount - fee))
    if fee:
        movements.append(Movement(system_account(conn, FEES), asset, AVAILABLE, fee))
    return movements


def credit_deposit(
    conn: Connection, account_id: int, asset: str, amount: int, *, ref_type: str = "deposit",
    ref_id: str | int = "", memo: str = "",
) -> int:
    _check_amount(amount)
    external = system_account(conn, EXTERNAL)
    return post(conn, "deposit", [
        Movement(external, asset, AVAILABLE, -amount),
        Movement(account_id, asset, AVAILABLE, amount),
    ], ref_type=ref_type, ref_id=ref_id, memo=memo)


def hold(
    conn: Connection, account_id: int, asset: str, amount: int, *, ref_type: str = "",
    ref_id: str | int = "",
) -> int:
    """Available -> locked, e.g. for an open order or a pending withdrawal."""
    return post(conn, "hold", hold_movements(account_id, asset, amount), ref_type=ref_type,
                ref_id=ref_id)


def release(
    conn: Connection, account_id: int, asset: str, amount: int, *, ref_type: str = "",
    ref_id: str | int = "",
) -> int:
    """Locked -> available, e.g. when an order is cancelled."""
    return post(conn, "release", release_movements(account_id, asset, amount),
                ref_type=ref_type, ref_id=ref_id)


def settle(
    conn: Connection, from_account: int, to_account: int, asset: str, amount: int, *,
    fee: int = 0, ref_type: str = "", ref_id: str | int = "",
) -> int:
    """Move `amount` of one owner's locked funds to another's available; `fee` of it goes to
    the fee account instead."""
    return post(conn, "settle",
                settle_movements(conn, from_account, to_account, asset, amount, fee),
                ref_type=ref_type, ref_id=ref_id)


def debit_withdrawal(
    conn: Connection, account_id: int, asset: str, amount: int, *, fee: int = 0,
    ref_type: str = "withdrawal", ref_id: str | int = "",
) -> int:
    """Pay out held funds: `amount` leaves the user's locked balance, `fee` of it is the
    exchange's, the rest goes to the outside world."""
    _check_amount(amount)
    if type(fee) is not int or not 0 <= fee < amount:
        raise LedgerError(f"Fee must be an int below the amount, got {fee!r}")
    movements = [
        Movement(account_id, asset, LOCKED, -amount),
        Movement(system_account(conn, EXTERNAL), asset, AVAILABLE, amount - fee),
    ]
    if fee:
        movements.append(Movement(system_account(conn, FEES), asset, AVAILABLE, fee))
    return post(conn, "withdrawal", movements, ref_type=ref_type, ref_id=ref_id)


def transfer(
    conn: Connection, from_account: int, to_account: int, asset: str, amount: int, *,
    ref_type: str = "transfer", ref_id: str | int = "", memo: str = "",
) -> int:
    """Available of one owner -> available of another."""
    _check_amount(amount)
    if from_account == to_account:
        raise LedgerError("Cannot transfer to the same account")
    return post(conn, "transfer", [
        Movement(from_account, asset, AVAILABLE, -amount),
        Movement(to_account, asset, AVAILABLE, amount),
    ], ref_type=ref_type, ref_id=ref_id, memo=memo)


def fund_from_fees(
    conn: Connection, pool: str, asset: str, amount: int, *, ref_type: str,
    ref_id: str | int = "",
) -> int:
    """Move collected fees into a system pool (staking rewards, promotions). Fees are the only
    source: funding a pool from the outside-world account, which may go negative, would let
    one admin create money."""
    return transfer(conn, system_account(conn, FEES), system_account(conn, pool), asset, amount,
                    ref_type=ref_type, ref_id=ref_id, memo=f"{pool} funded from fees")


_AVAILABLE = Prepared(select(_balances.c.available).where(
    _balances.c.account_id == bindparam("b_account"), _balances.c.asset == bindparam("b_asset")))


def available(conn: Connection, account_id: int, asset: str) -> int:
    """One balance's available bucket (0 when the account never held the asset)."""
    return _AVAILABLE.scalar(conn, {"b_account": account_id, "b_asset": asset}) or 0


def balances_of(conn: Connection, account_id: int) -> dict[str, tuple[int, int]]:
    """asset -> (available, locked)."""
    rows = conn.execute(
        select(_balances.c.asset, _balances.c.available, _balances.c.locked).where(
            _balances.c.account_id == account_id
        )
    )
    return {asset: (available, locked) for asset, available, locked in rows}


def user_balances(conn: Connection, user_id: int) -> dict[str, tuple[int, int]]:
    """A user's balances, asset -> (available, locked), reading only: none before their
    account's first use (screens show balances without creating the account)."""
    account = user_account(conn, user_id)
    return {} if account is None else balances_of(conn, account)
