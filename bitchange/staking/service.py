"""Staking products, positions, and funding the rewards account. Every balance change goes
through the ledger in the same transaction as the row it explains.

- Stake: the amount moves from the user's available balance to the `staking` system account;
  the product's `staked_total` grows by a conditional UPDATE that never passes its capacity
  (and row-locks the product, which serialises the per-user maximum check).
- Redeem: flexible products at any time; locked ones from `unlocks_at` on (earlier is refused
  with the date). The principal moves back from `staking` to the user's available balance.
- Rewards: see `staking.accrual`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from bitchange import ledger
from bitchange.accounts import audit
from bitchange.clock import aware, now
from bitchange.fee_pools import FeePool
from bitchange.ledger import InsufficientFunds
from bitchange.staking import STAKING, STAKING_REWARDS
from bitchange.staking.tables import StakingAccrual, StakingPosition, StakingProduct
from bitchange.trading.markets import assets

_products = StakingProduct.__table__
_positions = StakingPosition.__table__
_accruals = StakingAccrual.__table__

ACTIVE, CLOSED, REDEEMED = "active", "closed", "redeemed"
# Only the exchange's collected fees may fund rewards. The `external` account may go negative
# (it stands for the outside world), so funding from it would let one admin mint money into the
# rewards pool; outside money enters the books only through real deposits.


class StakingError(ValueError):
    """A refused staking operation; the message is safe to show."""


_POOL = FeePool(STAKING_REWARDS, "Rewards", "staking_fund", "staking_funding", StakingError)


@dataclass(frozen=True)
class Product:
    id: int
    asset: str
    name: str
    apr_bps: int
    lock_days: int
    min_amount: int
    max_per_user: int
    capacity: int
    staked_total: int
    status: str
    rewards_status: str

    @property
    def flexible(self) -> bool:
        return self.lock_days == 0


def _product(row) -> Product:  # type: ignore[no-untyped-def]
    return Product(row.id, row.asset, row.name, row.apr_bps, row.lock_days, row.min_amount,
                   row.max_per_user, row.capacity, row.staked_total, row.status,
                   row.rewards_status)


def get_product(conn: Connection, product_id: int) -> Product | None:
    row = conn.execute(select(_products).where(_products.c.id == product_id)).first()
    return _product(row) if row else None


def list_products(conn: Connection, *, only_active: bool = False) -> list[Product]:
    query = select(_products).order_by(_products.c.asset, _products.c.lock_days,
                                       _products.c.id)
    if only_active:
        query = query.where(_products.c.status == ACTIVE)
    return [_product(r) for r in conn.execute(query)]


# --- admin: products and the rewards account -------------------------------------------------

def create_product(conn: Connection, admin_id: int, *, asset: str, name: str, apr_bps: int,
                   lock_days: int, min_amount: int, max_per_user: int, capacity: int,
                   ip: str = "") -> int:
    if asset not in assets(conn):
        raise StakingError("Unknown asset.")
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 60:
        raise StakingError("Name must be 2 to 60 characters.")
    if type(apr_bps) is not int or not 0 < apr_bps <= 100_000:
        raise StakingError("APR must be above 0 % and at most 1000 %.")
    if type(lock_days) is not int or not 0 <= lock_days <= 3650:
        raise StakingError("Lock period must be 0 (flexible) to 3650 days.")
    for value in (min_amount, max_per_user, capacity):
        if type(value) is not int or value <= 0:
            raise StakingError("Amounts must be greater than zero.")
    if max_per_user < min_amount:
        raise StakingError("The maximum per user must be at least the minimum.")
    if capacity < min_amount:
        raise StakingError("The capacity must be at least the minimum.")
    product_id = conn.execute(insert(_products).values(
        asset=asset, name=name, apr_bps=apr_bps, lock_days=lock_days, min_amount=min_amount,
        max_per_user=max_per_user, capacity=capacity, staked_total=0, status=ACTIVE,
        rewards_status="ok", created_by=admin_id, created_at=now(),
    )).inserted_primary_key[0]
    audit.record(conn, admin_id, "staking_product_create", f"product {product_id}", ip=ip,
                 detail=f"{name}: {asset}, APR {apr_bps} bps, lock {lock_days} days")
    return product_id


def set_product_status(conn: Connection, admin_id: int, product_id: int, status: str, *,
                       ip: str = "") -> None:
    """Close a product to new stakes (existing positions keep earning and can redeem), or
    reopen it."""
    if status not in (ACTIVE, CLOSED):
        raise StakingError("Unknown status.")
    changed = conn.execute(update(_products).where(_products.c.id == product_id)
                           .values(status=status)).rowcount
    if changed != 1:
        raise StakingError("Unknown product.")
    audit.record(conn, admin_id, f"staking_product_{'open' if status == ACTIVE else 'close'}",
                 f"product {product_id}", ip=ip)


def fund_rewards(conn: Connection, admin_id: int, asset: str, amount: int, *,
                 source: str = "fees", ip: str = "") -> int:
    """Move `amount` of the exchange's collected fees into the rewards account."""
    return _POOL.fund(conn, admin_id, asset, amount, source=source, ip=ip)


def rewards_balance(conn: Connection) -> dict[str, int]:
    return _POOL.balance(conn)


@dataclass(frozen=True)
class ProductTotals:
    product: Product
    positions: int
    rewards_paid: int


def product_totals(conn: Connection) -> list[ProductTotals]:
    counts = dict(conn.execute(select(_positions.c.product_id, func.count())
                               .where(_positions.c.status == ACTIVE)
                               .group_by(_positions.c.product_id)).all())
    paid = dict(conn.execute(select(_positions.c.product_id, func.sum(_accruals.c.amount))
                             .join(_accruals, _accruals.c.position_id == _positions.c.id)
                             .group_by(_positions.c.product_id)).all())
    return [ProductTotals(p, counts.get(p.id, 0), int(paid.get(p.id) or 0))
            for p in list_products(conn)]


# --- users: stake and redeem -----------------------------------------------------------------

def stake(conn: Connection, user_id: int, product_id: int, amount: int) -> int:
    if type(amount) is not int or amount <= 0:
        raise StakingError("Enter an amount greater than zero.")
    product = get_product(conn, product_id)
    if product is None or product.status != ACTIVE:
        raise StakingError("This product is not open for staking.")
    if amount < product.min_amount:
        raise StakingError("The amount is below this product's minimum.")
    # Conditional UPDATE: capacity is never exceeded, and the product row stays locked until
    # commit, so two stakes of one user cannot both pass the per-user check below.
    grown = conn.execute(update(_products).where(
        _products.c.id == product_id, _products.c.status == ACTIVE,
        _products.c.staked_total + amount <= _products.c.capacity,
    ).values(staked_total=_products.c.staked_total + amount)).rowcount
    if grown != 1:
        raise StakingError("This product does not have that much capacity left.")
    mine = conn.scalar(select(func.coalesce(func.sum(_positions.c.amount), 0)).where(
        _positions.c.user_id == user_id, _positions.c.product_id == product_id,
        _positions.c.status == ACTIVE)) or 0
    if mine + amount > product.max_per_user:
        raise StakingError("This exceeds the maximum you can stake in this product.")
    moment = now()
    position_id = conn.execute(insert(_positions).values(
        user_id=user_id, product_id=product_id, asset=product.asset, amount=amount,
        status=ACTIVE, started_at=moment, rewards_paid=0,
        unlocks_at=moment + timedelta(days=product.lock_days) if product.lock_days else None,
    )).inserted_primary_key[0]
    try:
        tx = ledger.transfer(conn, ledger.account_for_user(conn, user_id),
                             ledger.system_account(conn, STAKING), product.asset, amount,
                             ref_type="staking_position", ref_id=position_id, memo="stake")
    except InsufficientFunds:
        raise StakingError(f"Not enough available {product.asset}.") from None
    conn.execute(update(_positions).where(_positions.c.id == position_id).values(stake_tx=tx))
    return position_id


def redeem(conn: Connection, user_id: int, position_id: int) -> int:
    """Return a position's principal to the user's available balance (their own position
    only: the user id is part of the WHERE clause)."""
    row = conn.execute(select(_positions).where(
        _positions.c.id == position_id, _positions.c.user_id == user_id)).first()
    if row is None:
        raise StakingError("Unknown position.")
    if row.status != ACTIVE:
        raise StakingError("This position is already redeemed.")
    moment = now()
    unlocks_at = aware(row.unlocks_at)
    if unlocks_at is not None and moment < unlocks_at:
        raise StakingError(f"This position is locked until "
                           f"{unlocks_at.strftime('%Y-%m-%d %H:%M')} UTC.")
    changed = conn.execute(update(_positions).where(
        _positions.c.id == position_id, _positions.c.user_id == user_id,
        _positions.c.status == ACTIVE,
    ).values(status=REDEEMED, redeemed_at=moment)).rowcount
    if changed != 1:
        raise StakingError("This position is already redeemed.")
    conn.execute(update(_products).where(_products.c.id == row.product_id).values(
        staked_total=_products.c.staked_total - row.amount))
    tx = ledger.transfer(conn, ledger.system_account(conn, STAKING),
                         ledger.account_for_user(conn, user_id), row.asset, row.amount,
                         ref_type="staking_position", ref_id=position_id, memo="redeem")
    conn.execute(update(_positions).where(_positions.c.id == position_id).values(redeem_tx=tx))
    return tx


@dataclass(frozen=True)
class PositionView:
    id: int
    product_name: str
    asset: str
    amount: int
    apr_bps: int
    flexible: bool
    status: str
    started_at: datetime
    unlocks_at: datetime | None
    redeemed_at: datetime | None
    rewards_paid: int
    rewards_status: str

    def redeemable(self, moment: datetime) -> bool:
        return self.status == ACTIVE and (self.unlocks_at is None or moment >= self.unlocks_at)


def positions_of(conn: Connection, user_id: int, limit: int = 100) -> list[PositionView]:
    rows = conn.execute(
        select(_positions, _products.c.name, _products.c.apr_bps, _products.c.rewards_status)
        .join(_products, _products.c.id == _positions.c.product_id)
        .where(_positions.c.user_id == user_id)
        .order_by((_positions.c.status == ACTIVE).desc(), _positions.c.id.desc()).limit(limit))
    return [PositionView(r.id, r.name, r.asset, r.amount, r.apr_bps, r.unlocks_at is None,
                         r.status, aware(r.started_at), aware(r.unlocks_at),
                         aware(r.redeemed_at), r.rewards_paid, r.rewards_status)
            for r in rows]


# --- the books -------------------------------------------------------------------------------

def check_books(conn: Connection) -> list[str]:
    """Problems, if any: the staking account must hold exactly the active positions'
    principal, and each product's `staked_total` must be the sum of its active positions."""
    problems = []
    principal: dict[str, int] = defaultdict(int)
    per_product: dict[int, int] = defaultdict(int)
    for product_id, asset, amount in conn.execute(select(
            _positions.c.product_id, _positions.c.asset, _positions.c.amount).where(
            _positions.c.status == ACTIVE)):
        principal[asset] += amount
        per_product[product_id] += amount
    held = {asset: available + locked for asset, (available, locked) in
            ledger.balances_of(conn, ledger.system_account(conn, STAKING)).items()}
    for asset in sorted(set(principal) | set(held)):
        if principal.get(asset, 0) != held.get(asset, 0):
            problems.append(f"staking account holds {held.get(asset, 0)} {asset} but active "
                            f"positions total {principal.get(asset, 0)}")
    for product in list_products(conn):
        if product.staked_total != per_product.get(product.id, 0):
            problems.append(f"product {product.id} staked_total {product.staked_total} != "
                            f"{per_product.get(product.id, 0)}")
    paid = dict(conn.execute(select(_accruals.c.position_id, func.sum(_accruals.c.amount))
                             .group_by(_accruals.c.position_id)).all())
    for position_id, rewards_paid in conn.execute(select(_positions.c.id,
                                                         _positions.c.rewards_paid)):
        if int(paid.get(position_id) or 0) != rewards_paid:
            problems.append(f"position {position_id} rewards_paid {rewards_paid} != accruals")
    return problems
