"""Daily staking rewards.

Rule: a position earns for UTC day D when it was staked before D began and was not redeemed
before D ended (so rewards start the day after staking, and the day of redemption earns
nothing). The reward for one position and one day is

    floor(amount * apr_bps / (10_000 * 365))      (integer minor units of the staked asset)

computed per position per day and rounded down; the remainder is never paid (rounding favours
the exchange, never the other way). A year is always 365 days.

Idempotence: each (position, day) has at most one `staking_accruals` row (unique constraint),
written in the same transaction as its ledger transfer. Running a day again finds nothing left
to pay; two runs at once cannot both pay (the second one's insert fails and its whole
transaction, transfers included, rolls back). A run pays every complete day of the last
`STAKING_CATCHUP_DAYS` days that is still unpaid, so a late or missed run catches up.

Funding: rewards come from the `staking_rewards` system account. When it cannot pay a position
that day's reward stays unpaid (no row), the product's `rewards_status` becomes `no_funds` (shown
to users and admins) and a later run, after admins fund the account, pays the days still inside
the catch-up window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, and_, exists, insert, or_, select, update

from bitchange import db, ledger
from bitchange.clock import now
from bitchange.config import get_settings
from bitchange.ledger import InsufficientFunds
from bitchange.staking import STAKING_REWARDS
from bitchange.staking.tables import StakingAccrual, StakingPosition, StakingProduct

_products = StakingProduct.__table__
_positions = StakingPosition.__table__
_accruals = StakingAccrual.__table__

DAYS_PER_YEAR = 365
CHUNK = 500  # positions per write transaction


def daily_reward(amount: int, apr_bps: int) -> int:
    """One day's reward in minor units, rounded down."""
    return amount * apr_bps // (10_000 * DAYS_PER_YEAR)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, UTC)
    return start, start + timedelta(days=1)


@dataclass
class DayResult:
    day: date
    paid: int = 0  # positions paid
    amount: dict[str, int] = field(default_factory=dict)  # asset -> minor units paid
    zero: int = 0  # positions whose reward rounds down to 0
    unpaid: int = 0  # positions the rewards account could not pay
    unpaid_assets: set[str] = field(default_factory=set)


def _eligible(day: date, limit: int):  # type: ignore[no-untyped-def]
    start, end = day_bounds(day)
    already = exists().where(and_(_accruals.c.position_id == _positions.c.id,
                                  _accruals.c.day == day))
    return (select(_positions.c.id, _positions.c.user_id, _positions.c.asset,
                   _positions.c.amount, _positions.c.product_id, _products.c.apr_bps)
            .join(_products, _products.c.id == _positions.c.product_id)
            .where(_positions.c.started_at < start,
                   or_(_positions.c.redeemed_at.is_(None), _positions.c.redeemed_at >= end),
                   ~already)
            .order_by(_positions.c.id).limit(limit)
            .with_for_update(of=_positions))


def _lock_in_order(conn: Connection, rows, rewards: int) -> None:  # type: ignore[no-untyped-def]
    """After the positions, lock the products and then every balance this chunk pays, each set
    in one order, as stake and redeem do (product, then balances): paying one position after
    another would lock the balances in position order, against every other money path."""
    conn.execute(select(_products.c.id).where(_products.c.id.in_({r.product_id for r in rows}))
                 .order_by(_products.c.id).with_for_update(key_share=True)).all()
    ledger.lock_balances(conn, [key for r in rows if daily_reward(r.amount, r.apr_bps)
                                for key in ((rewards, r.asset),
                                            (ledger.account_for_user(conn, r.user_id), r.asset))])


def accrue_day(day: date) -> DayResult:
    """Pay `day`'s rewards to every eligible position not yet paid for it. Refuses a day that
    has not ended yet."""
    if day >= now().date():
        raise ValueError(f"{day} has not ended yet (UTC)")
    result = DayResult(day)
    skipped: set[int] = set()  # unpaid this run: do not select them again
    while True:
        with db.write() as conn:
            rows = [r for r in conn.execute(_eligible(day, CHUNK + len(skipped)))
                    if r.id not in skipped][:CHUNK]
            if not rows:
                break
            rewards = ledger.system_account(conn, STAKING_REWARDS)
            _lock_in_order(conn, rows, rewards)
            dry: set[int] = set()
            paid_products: set[int] = set()
            for row in rows:
                amount = daily_reward(row.amount, row.apr_bps)
                tx = None
                if amount:
                    try:
                        tx = ledger.transfer(conn, rewards,
                                             ledger.account_for_user(conn, row.user_id),
                                             row.asset, amount, ref_type="staking_accrual",
                                             ref_id=row.id, memo=day.isoformat())
                    except InsufficientFunds:
                        skipped.add(row.id)
                        dry.add(row.product_id)
                        result.unpaid += 1
                        result.unpaid_assets.add(row.asset)
                        continue
                conn.execute(insert(_accruals).values(position_id=row.id, day=day,
                                                      amount=amount, ledger_tx=tx,
                                                      created_at=now()))
                if amount:
                    conn.execute(update(_positions).where(_positions.c.id == row.id).values(
                        rewards_paid=_positions.c.rewards_paid + amount))
                    result.paid += 1
                    result.amount[row.asset] = result.amount.get(row.asset, 0) + amount
                    paid_products.add(row.product_id)
                else:
                    result.zero += 1
            if dry:
                conn.execute(update(_products).where(_products.c.id.in_(dry))
                             .values(rewards_status="no_funds"))
            if paid_products - dry:
                conn.execute(update(_products).where(_products.c.id.in_(paid_products - dry))
                             .values(rewards_status="ok"))
    return result


def due_days(today: date | None = None) -> list[date]:
    """The complete days a run should (re)visit, oldest first."""
    today = today or now().date()
    window = max(get_settings().staking_catchup_days, 1)
    return [today - timedelta(days=n) for n in range(window, 0, -1)]


def accrue_due() -> list[DayResult]:
    return [accrue_day(day) for day in due_days()]


def summary(results: list[DayResult]) -> str:
    paid = sum(r.paid for r in results)
    unpaid = sum(r.unpaid for r in results)
    totals: dict[str, int] = {}
    for r in results:
        for asset, amount in r.amount.items():
            totals[asset] = totals.get(asset, 0) + amount
    text = f"{paid} rewards paid" + "".join(f", {a} {n}" for a, n in sorted(totals.items()))
    if unpaid:
        assets = sorted({a for r in results for a in r.unpaid_assets})
        text += (f"; {unpaid} UNPAID: the staking rewards account is short of "
                 f"{', '.join(assets)}")
    return text


def accrued_days(conn: Connection, position_id: int) -> list[tuple[date, int]]:
    return [(r.day, r.amount) for r in conn.execute(
        select(_accruals.c.day, _accruals.c.amount).where(_accruals.c.position_id == position_id)
        .order_by(_accruals.c.day))]
