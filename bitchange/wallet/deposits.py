"""Deposit addresses and deposit crediting.

v1 has no blockchain node: an admin records a confirmed on-chain deposit (the operator watches
the chain). `record` is idempotent per (asset, txid, output index), enforced by a unique
constraint; above `DEPOSIT_SECOND_APPROVAL_USDT` (or when the asset has no price) a second,
different admin approves before the credit. A chain watcher plugs in through `DepositSource`
and `run_source`, and goes through the same `record`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bitchange import ledger
from bitchange.accounts import audit
from bitchange.accounts.notices import notify
from bitchange.clock import now
from bitchange.db.models import User
from bitchange.trading.markets import assets
from bitchange.wallet import chains, rules
from bitchange.wallet.errors import InvalidTransition, WalletError
from bitchange.wallet.pricing import limit_value_usdt
from bitchange.wallet.tables import Deposit, DepositAddress

_addresses = DepositAddress.__table__
_deposits = Deposit.__table__
_users = User.__table__
_TXID = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


# --- addresses ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AddressInfo:
    asset: str
    available: bool
    address: str = ""
    reason: str = ""
    network: str = ""


def _mine(user_id: int, asset: str, key: chains.DepositKey) -> Select:
    return select(_addresses.c.address).where(
        _addresses.c.user_id == user_id, _addresses.c.asset == asset,
        _addresses.c.key_id == key.key_id)


def current_address(conn: Connection, user_id: int, asset: str) -> AddressInfo:
    """The user's address for `asset` from the current key, reading only: `address` is ""
    while none has been assigned yet (`deposit_address` assigns one)."""
    key = chains.deposit_key(asset)
    network = chains.NETWORK_NAMES.get(asset, "")
    if not key.available:
        return AddressInfo(asset, False, reason=key.reason, network=network)
    return AddressInfo(asset, True, conn.scalar(_mine(user_id, asset, key)) or "",
                       network=network)


def deposit_address(conn: Connection, user_id: int, asset: str) -> AddressInfo:
    """The user's address for `asset` from the current key, derived and stored on first use.

    The index is the next free one for the key; the unique constraints make a concurrent
    duplicate fail (and be retried) rather than hand one address to two users."""
    found = current_address(conn, user_id, asset)
    if not found.available or found.address:
        return found
    key, network = chains.deposit_key(asset), found.network
    mine = _mine(user_id, asset, key)
    for _attempt in range(5):
        index = conn.scalar(select(func.coalesce(func.max(_addresses.c.derivation_index) + 1, 0))
                            .where(_addresses.c.asset == asset,
                                   _addresses.c.key_id == key.key_id))
        address = chains.derive(asset, key.xpub, index)
        try:
            with conn.begin_nested():
                conn.execute(insert(_addresses).values(
                    user_id=user_id, asset=asset, key_id=key.key_id, derivation_index=index,
                    address=address, created_at=now()))
            return AddressInfo(asset, True, address, network=network)
        except IntegrityError:
            existing = conn.scalar(mine)
            if existing:
                return AddressInfo(asset, True, existing, network=network)
    raise WalletError("Could not assign a deposit address; try again.")


def owner_of_address(conn: Connection, asset: str, address: str) -> int | None:
    return conn.scalar(select(_addresses.c.user_id).where(
        _addresses.c.asset == asset, _addresses.c.address == address.strip()))


# --- crediting ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ObservedDeposit:
    """What a chain shows: an output paying one of our deposit addresses."""

    asset: str
    address: str
    amount: int  # minor units
    txid: str
    vout: int
    confirmations: int


class DepositSource(Protocol):
    """A chain watcher (future): reports deposits to our addresses. `run_source` records them;
    recording is idempotent, so a source may report the same output again and again."""

    name: str

    def observed(self) -> Iterable[ObservedDeposit]: ...


@dataclass(frozen=True)
class Recorded:
    deposit_id: int
    status: str  # pending_approval | credited | rejected
    created: bool  # False: this output was recorded before; nothing changed


def _precision(conn: Connection, asset: str) -> int:
    info = assets(conn).get(asset)
    if info is None:
        raise WalletError(f"Unknown asset {asset!r}.")
    return info.precision


def _credit(conn: Connection, deposit_id: int) -> None:
    row = conn.execute(select(_deposits).where(_deposits.c.id == deposit_id)).one()
    account = ledger.account_for_user(conn, row.user_id)
    tx_id = ledger.credit_deposit(conn, account, row.asset, row.amount, ref_type="deposit",
                                  ref_id=deposit_id, memo=f"{row.txid}:{row.vout}"[:255])
    done = conn.execute(update(_deposits).where(
        _deposits.c.id == deposit_id, _deposits.c.status == "pending_approval").values(
        status="credited", ledger_tx_id=tx_id, credited_at=now()))
    if done.rowcount != 1:
        raise InvalidTransition("This deposit is not waiting to be credited.")
    notify(conn, row.user_id, "deposit_credited", f"Deposit of {row.asset} credited", [
        f"{assets(conn)[row.asset].format(row.amount)} {row.asset} arrived in your BitChange "
        "account and is available now.",
        f"Transaction: {row.txid} (output {row.vout}), {row.confirmations} confirmations.",
    ])


def record(conn: Connection, *, asset: str, amount: int, txid: str, vout: int,
           confirmations: int, address: str = "", user_email: str = "",
           recorded_by: int | None = None, source: str = "admin", ip: str = "") -> Recorded:
    """Record a confirmed deposit and credit it (or queue it for a second admin).

    Either `address` (one of our deposit addresses) or `user_email` says whose it is. The same
    (asset, txid, vout) again returns the existing deposit with `created=False`."""
    asset = (asset or "").strip().upper()
    precision = _precision(conn, asset)
    txid = (txid or "").strip()
    if not _TXID.match(txid):
        raise WalletError("The transaction id must be 64 hexadecimal characters.")
    txid = txid.lower()
    if type(vout) is not int or vout < 0:
        raise WalletError("The output index must be a whole number, 0 or more.")
    if type(amount) is not int or amount <= 0:
        raise WalletError("The amount must be greater than zero.")
    if type(confirmations) is not int or confirmations < rules.min_confirmations(asset):
        raise WalletError(f"{asset} deposits need at least {rules.min_confirmations(asset)} "
                          "confirmations before they are credited.")
    existing = conn.execute(select(_deposits.c.id, _deposits.c.status).where(
        _deposits.c.asset == asset, _deposits.c.txid == txid, _deposits.c.vout == vout)).first()
    if existing:
        return Recorded(existing.id, existing.status, False)

    address = (address or "").strip()
    if address:
        user_id = owner_of_address(conn, asset, address)
        if user_id is None:
            raise WalletError(f"{address} is not one of our {asset} deposit addresses.")
    elif user_email:
        user_id = conn.scalar(select(_users.c.id).where(
            _users.c.email == user_email.strip().lower()))
        if user_id is None:
            raise WalletError("No user with that email.")
    else:
        raise WalletError("Give the deposit address or the user's email.")
    if recorded_by is not None and recorded_by == user_id:
        raise WalletError("Admins cannot record deposits to their own account.")

    value = limit_value_usdt(conn, asset, amount, precision=precision)
    needs_second = value is None or value >= rules.deposit_second_approval()
    try:
        with conn.begin_nested():
            deposit_id = conn.execute(insert(_deposits).values(
                user_id=user_id, asset=asset, amount=amount, txid=txid, vout=vout,
                address=address, confirmations=confirmations, value_usdt=value,
                status="pending_approval", source=source[:32], recorded_by=recorded_by,
                created_at=now())).inserted_primary_key[0]
    except IntegrityError:  # the same output, recorded concurrently
        row = conn.execute(select(_deposits.c.id, _deposits.c.status).where(
            _deposits.c.asset == asset, _deposits.c.txid == txid,
            _deposits.c.vout == vout)).one()
        return Recorded(row.id, row.status, False)
    if recorded_by is not None:
        audit.record(conn, recorded_by, "deposit_recorded", f"deposit {deposit_id}", ip=ip,
                     detail=f"{assets(conn)[asset].format(amount)} {asset} to user {user_id}, "
                            f"{txid}:{vout}, {confirmations} conf"
                            + (", awaiting second approval" if needs_second else ""))
    if needs_second:
        return Recorded(deposit_id, "pending_approval", True)
    _credit(conn, deposit_id)
    return Recorded(deposit_id, "credited", True)


def approve(conn: Connection, admin_id: int, deposit_id: int, *, ip: str = "") -> None:
    """The second admin's approval: credits the deposit."""
    row = conn.execute(select(_deposits).where(_deposits.c.id == deposit_id)).first()
    if row is None:
        raise WalletError("No such deposit.")
    if row.status != "pending_approval":
        raise InvalidTransition(f"This deposit is {row.status.replace('_', ' ')}.")
    if row.recorded_by == admin_id:
        raise WalletError("A second, different admin must approve this deposit.")
    if row.user_id == admin_id:
        raise WalletError("Admins cannot approve deposits to their own account.")
    conn.execute(update(_deposits).where(_deposits.c.id == deposit_id).values(
        approved_by=admin_id))
    _credit(conn, deposit_id)
    audit.record(conn, admin_id, "deposit_approved", f"deposit {deposit_id}", ip=ip)


def reject(conn: Connection, admin_id: int, deposit_id: int, reason: str, *,
           ip: str = "") -> None:
    """Drop a recorded deposit that is still waiting for approval (e.g. a typing mistake)."""
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise WalletError("Give a reason.")
    done = conn.execute(update(_deposits).where(
        _deposits.c.id == deposit_id, _deposits.c.status == "pending_approval").values(
        status="rejected", reject_reason=reason, approved_by=admin_id))
    if done.rowcount != 1:
        raise InvalidTransition("Only a deposit waiting for approval can be rejected.")
    audit.record(conn, admin_id, "deposit_rejected", f"deposit {deposit_id}", ip=ip,
                 detail=reason)


def run_source(conn: Connection, source: DepositSource) -> list[Recorded]:
    """Record everything a chain watcher reports (idempotently)."""
    results = []
    for seen in source.observed():
        results.append(record(conn, asset=seen.asset, amount=seen.amount, txid=seen.txid,
                              vout=seen.vout, confirmations=seen.confirmations,
                              address=seen.address, source=f"watcher:{source.name}"))
    return results


@dataclass(frozen=True)
class DepositRow:
    id: int
    user_id: int
    email: str
    asset: str
    amount: int
    txid: str
    vout: int
    confirmations: int
    status: str
    value_usdt: int | None
    recorded_by: str
    created_at: object


def list_deposits(conn: Connection, *, status: str | None = None,
                  limit: int = 100) -> list[DepositRow]:
    recorder = _users.alias("recorder")
    query = (select(_deposits, _users.c.email, recorder.c.email.label("recorder_email"))
             .join(_users, _users.c.id == _deposits.c.user_id)
             .outerjoin(recorder, recorder.c.id == _deposits.c.recorded_by)
             .order_by(_deposits.c.id.desc()).limit(limit))
    if status:
        query = query.where(_deposits.c.status == status)
    return [DepositRow(r.id, r.user_id, r.email, r.asset, r.amount, r.txid, r.vout,
                       r.confirmations, r.status, r.value_usdt,
                       r.recorder_email or r.source, r.created_at)
            for r in conn.execute(query)]
