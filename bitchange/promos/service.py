"""Promo codes: creating them, funding the promotions account, redeeming.

A redemption, in one transaction:
1. a conditional UPDATE raises the code's `redeemed_count` only while it is active, inside its
   validity window and below `total_limit` (on PostgreSQL it also row-locks the code, which
   serialises concurrent redemptions of that code; on SQLite the write lock does);
2. the user's earlier redemptions are counted: the new one is number `seq`, refused above the
   per-user limit; (code, user, seq) is unique, a backstop if two slip through;
3. the reward moves from the `promotions` account to the user's available balance through the
   ledger (refused if the account cannot pay).
Any refusal raises `PromoError`, and the caller's transaction rolls everything back.

Guessing is throttled: a code that does not exist counts against the user (and their IP) under
the `promo_account` / `promo_ip` throttle scopes, and while either is blocked every redemption
is refused with the wait. The failure is recorded in its own transaction (`redeem_code`), since
the refused one rolls back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bitchange import db, ledger
from bitchange.accounts import audit, throttle
from bitchange.clock import aware, now
from bitchange.db import retry
from bitchange.db.models import LedgerEntry, LedgerTransaction, User
from bitchange.fee_pools import FeePool
from bitchange.kyc.levels import level_of
from bitchange.ledger import InsufficientFunds
from bitchange.promos import PROMOTIONS
from bitchange.promos.tables import PromoCode, PromoRedemption
from bitchange.trading.markets import assets

_codes = PromoCode.__table__
_redemptions = PromoRedemption.__table__
_users = User.__table__
_entries = LedgerEntry.__table__
_transactions = LedgerTransaction.__table__

CONDITIONS = {"none": "No condition", "first_deposit_min": "First deposit of at least",
              "kyc_level_min": "Verification level at least"}
# Only the exchange's collected fees may fund promotions. The `external` account may go
# negative (it stands for the outside world), so funding from it would let one admin mint money
# into the pool and redeem it; outside money enters the books only through real deposits.
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")


class PromoError(ValueError):
    """A refused promo operation; the message is safe to show."""


_POOL = FeePool(PROMOTIONS, "Promotions", "promo_fund", "promo_funding", PromoError)


class UnknownCode(PromoError):
    """No such code: the caller counts the attempt against the throttle in its own
    transaction (see `redeem_code`)."""


def normalize_code(text: str) -> str:
    code = (text or "").strip().upper()
    if not _CODE.match(code):
        raise PromoError("A code is 3 to 32 letters, digits or dashes.")
    return code


@dataclass(frozen=True)
class Code:
    id: int
    code: str
    asset: str
    amount: int
    total_limit: int
    per_user_limit: int
    redeemed_count: int
    valid_from: datetime
    valid_until: datetime
    condition: str
    condition_asset: str
    condition_amount: int
    active: bool


def _code(row) -> Code:  # type: ignore[no-untyped-def]
    return Code(row.id, row.code, row.asset, row.amount, row.total_limit, row.per_user_limit,
                row.redeemed_count, aware(row.valid_from), aware(row.valid_until),
                row.condition, row.condition_asset, row.condition_amount, bool(row.active))


def list_codes(conn: Connection) -> list[Code]:
    return [_code(r) for r in conn.execute(select(_codes).order_by(_codes.c.id.desc()))]


def create_code(conn: Connection, admin_id: int, *, code: str, asset: str, amount: int,
                total_limit: int, per_user_limit: int = 1, valid_from: datetime,
                valid_until: datetime, condition: str = "none", condition_asset: str = "",
                condition_amount: int = 0, ip: str = "") -> int:
    code = normalize_code(code)
    known = assets(conn)
    if asset not in known:
        raise PromoError("Unknown asset.")
    if type(amount) is not int or amount <= 0:
        raise PromoError("The reward must be greater than zero.")
    if type(total_limit) is not int or total_limit <= 0:
        raise PromoError("Total redemptions must be at least 1.")
    if type(per_user_limit) is not int or not 1 <= per_user_limit <= total_limit:
        raise PromoError("The per-user limit must be between 1 and the total.")
    if valid_until <= valid_from:
        raise PromoError("The validity window must end after it starts.")
    if condition not in CONDITIONS:
        raise PromoError("Unknown condition.")
    if condition == "first_deposit_min":
        if condition_asset not in known or condition_amount <= 0:
            raise PromoError("Give the minimum first deposit (asset and amount).")
    elif condition == "kyc_level_min":
        if condition_amount not in (1, 2):
            raise PromoError("The verification level must be 1 or 2.")
        condition_asset = ""
    else:
        condition_asset, condition_amount = "", 0
    if conn.scalar(select(_codes.c.id).where(_codes.c.code == code)) is not None:
        raise PromoError("That code already exists.")
    code_id = conn.execute(insert(_codes).values(
        code=code, asset=asset, amount=amount, total_limit=total_limit,
        per_user_limit=per_user_limit, redeemed_count=0, valid_from=valid_from,
        valid_until=valid_until, condition=condition, condition_asset=condition_asset,
        condition_amount=condition_amount, active=True, created_by=admin_id, created_at=now(),
    )).inserted_primary_key[0]
    audit.record(conn, admin_id, "promo_create", f"promo {code}", ip=ip,
                 detail=f"{amount} minor units of {asset}, {total_limit} in total, "
                        f"{per_user_limit} per user")
    return code_id


def set_active(conn: Connection, admin_id: int, code_id: int, active: bool, *,
               ip: str = "") -> None:
    changed = conn.execute(update(_codes).where(_codes.c.id == code_id)
                           .values(active=active)).rowcount
    if changed != 1:
        raise PromoError("Unknown code.")
    audit.record(conn, admin_id, "promo_activate" if active else "promo_deactivate",
                 f"promo {code_id}", ip=ip)


def fund_promotions(conn: Connection, admin_id: int, asset: str, amount: int, *,
                    source: str = "fees", ip: str = "") -> int:
    return _POOL.fund(conn, admin_id, asset, amount, source=source, ip=ip)


def promotions_balance(conn: Connection) -> dict[str, int]:
    return _POOL.balance(conn)


def first_deposit(conn: Connection, user_id: int) -> tuple[str, int] | None:
    """(asset, amount) of the user's first deposit credited through the ledger, if any."""
    account = ledger.account_for_user(conn, user_id)
    row = conn.execute(
        select(_entries.c.asset, _entries.c.amount)
        .join(_transactions, _transactions.c.id == _entries.c.transaction_id)
        .where(_transactions.c.kind == "deposit", _entries.c.account_id == account,
               _entries.c.amount > 0)
        .order_by(_transactions.c.id).limit(1)).first()
    return (row.asset, row.amount) if row else None


def _check_condition(conn: Connection, user_id: int, code: Code) -> None:
    if code.condition == "first_deposit_min":
        first = first_deposit(conn, user_id)
        if first is None or first[0] != code.condition_asset or \
                first[1] < code.condition_amount:
            raise PromoError("This code is for accounts whose first deposit met the "
                             "promotion's minimum.")
    elif code.condition == "kyc_level_min" and level_of(conn, user_id) < code.condition_amount:
        raise PromoError(f"This code needs verification level {code.condition_amount}.")


@dataclass(frozen=True)
class Redeemed:
    redemption_id: int
    asset: str
    amount: int


def _throttle_checks(user_id: int, ip: str) -> list[tuple[str, str]]:
    checks = [("promo_account", str(user_id))]
    if ip:
        checks.append(("promo_ip", ip))
    return checks


def record_unknown_code(conn: Connection, user_id: int, ip: str = "") -> None:
    for scope, subject in _throttle_checks(user_id, ip):
        throttle.hit(conn, scope, subject)


def redeem(conn: Connection, user_id: int, text: str, *, ip: str = "") -> Redeemed:
    wait = throttle.first_blocked(conn, _throttle_checks(user_id, ip))
    if wait:
        raise PromoError(f"Too many invalid codes. Try again in {throttle.describe_wait(wait)}.")
    try:
        code_text = normalize_code(text)
    except PromoError:
        raise UnknownCode("This code is not valid.") from None
    row = conn.execute(select(_codes).where(_codes.c.code == code_text)).first()
    if row is None:
        raise UnknownCode("This code is not valid.")
    if row.created_by == user_id:
        raise PromoError("You cannot redeem a code you created.")
    code = _code(row)
    moment = now()
    if not code.active or moment < code.valid_from or moment >= code.valid_until:
        raise PromoError("This code is not active.")
    user = conn.execute(select(_users.c.email_verified_at, _users.c.frozen_at).where(
        _users.c.id == user_id)).one()
    if user.email_verified_at is None or user.frozen_at is not None:
        raise PromoError("Confirm your email address first (and make sure your account is not "
                         "frozen).")
    _check_condition(conn, user_id, code)
    taken = conn.execute(update(_codes).where(
        _codes.c.id == code.id, _codes.c.active.is_(True),
        _codes.c.valid_from <= moment, _codes.c.valid_until > moment,
        _codes.c.redeemed_count < _codes.c.total_limit,
    ).values(redeemed_count=_codes.c.redeemed_count + 1)).rowcount
    if taken != 1:
        raise PromoError("This code has been fully redeemed.")
    seq = (conn.scalar(select(func.count()).select_from(_redemptions).where(
        _redemptions.c.code_id == code.id, _redemptions.c.user_id == user_id)) or 0) + 1
    if seq > code.per_user_limit:
        raise PromoError("You have already used this code.")
    try:
        redemption_id = conn.execute(insert(_redemptions).values(
            code_id=code.id, user_id=user_id, seq=seq, asset=code.asset, amount=code.amount,
            created_at=moment)).inserted_primary_key[0]
    except IntegrityError:
        raise PromoError("You have already used this code.") from None
    try:
        tx = ledger.transfer(conn, ledger.system_account(conn, PROMOTIONS),
                             ledger.account_for_user(conn, user_id), code.asset, code.amount,
                             ref_type="promo_redemption", ref_id=redemption_id,
                             memo=code.code)
    except InsufficientFunds:
        raise PromoError("This promotion has run out of funds; try again later.") from None
    conn.execute(update(_redemptions).where(_redemptions.c.id == redemption_id)
                 .values(ledger_tx=tx))
    return Redeemed(redemption_id, code.asset, code.amount)


def redeem_code(user_id: int, text: str, *, ip: str = "") -> Redeemed:
    """Redeem in its own transaction; an unknown code is counted against the throttle."""
    try:
        return retry.write(lambda conn: redeem(conn, user_id, text, ip=ip))
    except UnknownCode:
        with db.write() as conn:
            record_unknown_code(conn, user_id, ip)
        raise


@dataclass(frozen=True)
class RedemptionView:
    id: int
    code: str
    email: str
    asset: str
    amount: int
    created_at: datetime


def redemptions(conn: Connection, *, code_id: int | None = None, user_id: int | None = None,
                limit: int = 200) -> list[RedemptionView]:
    query = (select(_redemptions.c.id, _codes.c.code, _users.c.email, _redemptions.c.asset,
                    _redemptions.c.amount, _redemptions.c.created_at)
             .join(_codes, _codes.c.id == _redemptions.c.code_id)
             .join(_users, _users.c.id == _redemptions.c.user_id)
             .order_by(_redemptions.c.id.desc()).limit(limit))
    if code_id is not None:
        query = query.where(_redemptions.c.code_id == code_id)
    if user_id is not None:
        query = query.where(_redemptions.c.user_id == user_id)
    return [RedemptionView(r.id, r.code, r.email, r.asset, r.amount, aware(r.created_at))
            for r in conn.execute(query)]


def check_books(conn: Connection) -> list[str]:
    """Each code's counter equals its redemptions, within its limits."""
    counts = dict(conn.execute(select(_redemptions.c.code_id, func.count())
                               .group_by(_redemptions.c.code_id)).all())
    problems = []
    for code in list_codes(conn):
        if counts.get(code.id, 0) != code.redeemed_count:
            problems.append(f"promo {code.code}: counter {code.redeemed_count} != "
                            f"{counts.get(code.id, 0)} redemptions")
    over = conn.execute(select(_redemptions.c.code_id, _redemptions.c.user_id, func.count())
                        .group_by(_redemptions.c.code_id, _redemptions.c.user_id)).all()
    limits = {c.id: c.per_user_limit for c in list_codes(conn)}
    for code_id, user_id, n in over:
        if n > limits.get(code_id, 0):
            problems.append(f"promo {code_id}: user {user_id} redeemed {n} times")
    return problems
