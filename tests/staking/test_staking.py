"""Staking: stake and redeem through the ledger, limits, locks, daily accrual exactly once,
documented rounding, and rewards that stop when the rewards account runs dry."""

from __future__ import annotations

import contextlib
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from bitchange import db
from bitchange.staking import STAKING, STAKING_REWARDS, accrual, service
from bitchange.staking.service import StakingError
from bitchange.staking.tables import StakingAccrual
from tests.staking.conftest import USDT, available, earn_fees, make_user, system_balance

pytestmark = pytest.mark.usefixtures("books")


def product(admin: int, *, lock_days: int = 0, apr_bps: int = 1000, min_amount: int = 10 * USDT,
            max_per_user: int = 10_000 * USDT, capacity: int = 50_000 * USDT) -> int:
    with db.write() as conn:
        return service.create_product(conn, admin, asset="USDT", name="USDT staking",
                                      apr_bps=apr_bps, lock_days=lock_days,
                                      min_amount=min_amount, max_per_user=max_per_user,
                                      capacity=capacity)


def stake(user_id: int, product_id: int, amount: int) -> int:
    with db.write() as conn:
        return service.stake(conn, user_id, product_id, amount)


def redeem(user_id: int, position_id: int) -> None:
    with db.write() as conn:
        service.redeem(conn, user_id, position_id)


def fund(admin: int, amount: int) -> None:
    earn_fees("USDT", amount)
    with db.write() as conn:
        service.fund_rewards(conn, admin, "USDT", amount)


def test_daily_reward_rounds_down_per_position_per_day():
    # 1,000 USDT at 10 % APR: 100 USDT a year, 0.273972... USDT a day -> floor in micro-USDT.
    assert accrual.daily_reward(1_000 * USDT, 1000) == 273_972
    assert accrual.daily_reward(1, 1000) == 0  # a tiny position earns nothing (never rounds up)
    assert accrual.daily_reward(3_650_000, 10_000) == 10_000  # exact: no remainder
    assert accrual.daily_reward(3_650_000 - 1, 10_000) == 9_999


def test_stake_moves_available_into_the_staking_account_and_redeem_returns_it(admin, clock):
    alice = make_user("alice@example.com", {"USDT": 1_000 * USDT})
    flexible = product(admin)
    position = stake(alice, flexible, 400 * USDT)
    assert available(alice, "USDT") == 600 * USDT
    assert system_balance(STAKING, "USDT") == 400 * USDT
    with db.read() as conn:
        assert service.get_product(conn, flexible).staked_total == 400 * USDT
        [view] = service.positions_of(conn, alice)
    assert (view.amount, view.status, view.flexible) == (400 * USDT, "active", True)

    redeem(alice, position)  # flexible: at any time
    assert available(alice, "USDT") == 1_000 * USDT
    assert system_balance(STAKING, "USDT") == 0
    with pytest.raises(StakingError, match="already redeemed"):
        redeem(alice, position)


def test_stake_refusals_leave_nothing_behind(admin, clock):
    alice = make_user("alice@example.com", {"USDT": 1_000 * USDT})
    bob = make_user("bob@example.com", {"USDT": 100_000 * USDT})
    small = product(admin, max_per_user=500 * USDT, capacity=700 * USDT)
    with pytest.raises(StakingError, match="minimum"):
        stake(alice, small, 5 * USDT)
    with pytest.raises(StakingError, match="maximum"):
        stake(alice, small, 501 * USDT)
    stake(alice, small, 300 * USDT)
    with pytest.raises(StakingError, match="maximum"):
        stake(alice, small, 201 * USDT)  # 300 + 201 > 500 per user
    with pytest.raises(StakingError, match="capacity"):
        stake(bob, small, 401 * USDT)  # 300 + 401 > 700 capacity
    with pytest.raises(StakingError, match="Not enough available"):
        stake(make_user("carol@example.com", {"USDT": 50 * USDT}), small, 60 * USDT)
    with db.write() as conn:
        service.set_product_status(conn, admin, small, "closed")
    with pytest.raises(StakingError, match="not open"):
        stake(bob, small, 100 * USDT)
    with db.read() as conn:
        assert service.get_product(conn, small).staked_total == 300 * USDT
    assert available(alice, "USDT") == 700 * USDT
    assert available(bob, "USDT") == 100_000 * USDT


def test_another_users_position_cannot_be_redeemed(admin, clock):
    alice = make_user("alice@example.com", {"USDT": 1_000 * USDT})
    mallory = make_user("mallory@example.com")
    position = stake(alice, product(admin), 100 * USDT)
    with pytest.raises(StakingError, match="Unknown position"):
        redeem(mallory, position)
    assert available(mallory, "USDT") == 0


def test_early_redemption_of_a_locked_position_is_refused_with_the_unlock_date(admin, clock):
    alice = make_user("alice@example.com", {"USDT": 1_000 * USDT})
    locked = product(admin, lock_days=30)
    position = stake(alice, locked, 100 * USDT)  # 2026-03-10 12:00 UTC
    clock.set(2026, 4, 9, 11, 59)
    with pytest.raises(StakingError, match="locked until 2026-04-09 12:00 UTC"):
        redeem(alice, position)
    assert available(alice, "USDT") == 900 * USDT
    clock.set(2026, 4, 9, 12, 0)
    redeem(alice, position)
    assert available(alice, "USDT") >= 1_000 * USDT


def test_accrual_pays_each_position_once_per_day_even_when_run_twice(admin, clock):
    alice = make_user("alice@example.com", {"USDT": 10_000 * USDT})
    fund(admin, 1_000 * USDT)
    flexible = product(admin)
    position = stake(alice, flexible, 1_000 * USDT)  # staked 2026-03-10 12:00
    daily = accrual.daily_reward(1_000 * USDT, 1000)

    clock.set(2026, 3, 11, 0, 10)
    assert accrual.accrue_day(date(2026, 3, 10)).paid == 0  # not held for the whole day
    clock.set(2026, 3, 12, 0, 10)
    first = accrual.accrue_day(date(2026, 3, 11))
    again = accrual.accrue_day(date(2026, 3, 11))  # the job runs twice
    assert (first.paid, first.amount) == (1, {"USDT": daily})
    assert (again.paid, again.amount) == (0, {})
    accrual.accrue_due()  # and the catch-up run finds nothing more to pay
    assert available(alice, "USDT") == 9_000 * USDT + daily
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(StakingAccrual.__table__)) == 1
        [view] = service.positions_of(conn, alice)
    assert view.rewards_paid == daily
    assert system_balance(STAKING_REWARDS, "USDT") == 1_000 * USDT - daily

    # A day that has not ended cannot be accrued.
    with pytest.raises(ValueError, match="not ended"):
        accrual.accrue_day(date(2026, 3, 12))

    # A late run catches up the missed days, once each; the redemption day earns nothing.
    clock.set(2026, 3, 15, 9, 0)
    redeem(alice, position)
    clock.set(2026, 3, 17, 0, 10)
    results = accrual.accrue_due()
    assert sum(r.paid for r in results) == 3  # the 12th, 13th and 14th
    accrual.accrue_due()
    with db.read() as conn:
        days = [d for d, _ in accrual.accrued_days(conn, position)]
    assert days == [date(2026, 3, d) for d in (11, 12, 13, 14)]
    assert available(alice, "USDT") == 10_000 * USDT + 4 * daily


def test_two_concurrent_runs_of_the_same_day_pay_once(admin, clock):
    users = [make_user(f"u{i}@example.com", {"USDT": 1_000 * USDT}) for i in range(6)]
    fund(admin, 1_000 * USDT)
    flexible = product(admin)
    for user in users:
        stake(user, flexible, 500 * USDT)
    clock.set(2026, 3, 12, 0, 10)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            accrual.accrue_day(date(2026, 3, 11))
        except Exception as exc:  # a losing run may fail on the unique constraint
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    daily = accrual.daily_reward(500 * USDT, 1000)
    assert all(available(u, "USDT") == 500 * USDT + daily for u in users)
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(StakingAccrual.__table__)) == 6


def test_rewards_stop_with_a_status_when_the_rewards_account_runs_dry(admin, clock):
    alice = make_user("alice@example.com", {"USDT": 10_000 * USDT})
    bob = make_user("bob@example.com", {"USDT": 10_000 * USDT})
    flexible = product(admin)
    daily = accrual.daily_reward(1_000 * USDT, 1000)
    fund(admin, daily)  # enough for one position's day only
    stake(alice, flexible, 1_000 * USDT)
    stake(bob, flexible, 1_000 * USDT)
    clock.set(2026, 3, 12, 0, 10)
    result = accrual.accrue_day(date(2026, 3, 11))
    assert (result.paid, result.unpaid) == (1, 1)
    assert "UNPAID" in accrual.summary([result])
    with db.read() as conn:
        assert service.get_product(conn, flexible).rewards_status == "no_funds"
        assert service.positions_of(conn, bob)[0].rewards_status == "no_funds"
    assert system_balance(STAKING_REWARDS, "USDT") == 0

    fund(admin, 100 * USDT)  # admins refill; the next run pays the day still owed
    clock.set(2026, 3, 12, 0, 20)
    accrual.accrue_due()
    assert available(alice, "USDT") == available(bob, "USDT") == 9_000 * USDT + daily
    with db.read() as conn:
        assert service.get_product(conn, flexible).rewards_status == "ok"


def test_concurrent_stakes_never_exceed_the_capacity(admin, clock):
    users = [make_user(f"c{i}@example.com", {"USDT": 1_000 * USDT}) for i in range(8)]
    small = product(admin, capacity=1_000 * USDT, max_per_user=1_000 * USDT)
    barrier = threading.Barrier(len(users))
    accepted: list[int] = []

    def go(user: int) -> None:
        barrier.wait()
        with contextlib.suppress(StakingError):
            accepted.append(stake(user, small, 300 * USDT))

    threads = [threading.Thread(target=go, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 3
    assert system_balance(STAKING, "USDT") == 900 * USDT


def test_funding_and_admin_totals(admin, clock):
    alice = make_user("alice@example.com", {"USDT": 1_000 * USDT})
    # The outside world's account may go negative: one admin must not mint rewards from it.
    with pytest.raises(StakingError, match="only be funded from collected fees"), \
            db.write() as conn:
        service.fund_rewards(conn, admin, "USDT", 5 * USDT, source="external")
    with pytest.raises(StakingError, match="fees account does not hold"), db.write() as conn:
        service.fund_rewards(conn, admin, "USDT", 5 * USDT)
    assert system_balance(STAKING_REWARDS, "USDT") == 0
    fund(admin, 50 * USDT)
    flexible = product(admin)
    stake(alice, flexible, 1_000 * USDT)
    clock.set(2026, 3, 12, 0, 10)
    accrual.accrue_due()
    with db.read() as conn:
        [totals] = service.product_totals(conn)
        assert totals.positions == 1
        assert totals.product.staked_total == 1_000 * USDT
        assert totals.rewards_paid == accrual.daily_reward(1_000 * USDT, 1000)
        assert service.rewards_balance(conn)["USDT"] == 50 * USDT - totals.rewards_paid
        from bitchange.accounts.audit import search

        assert {e.action for e in search(conn)} >= {"staking_fund", "staking_product_create"}


def test_the_scheduled_job_and_the_cli(admin, clock, monkeypatch, capsys):
    from bitchange.__main__ import main
    from bitchange.config import reload_settings
    from bitchange.jobs import scheduler, tasks

    alice = make_user("alice@example.com", {"USDT": 1_000 * USDT})
    fund(admin, 50 * USDT)
    stake(alice, product(admin), 1_000 * USDT)
    assert "staking_accrual" in {j.name for j in scheduler.default_jobs(reload_settings())}
    clock.set(2026, 3, 12, 0, 10)
    assert tasks.staking_accrual().startswith("1 rewards paid")

    assert main(["accrue-staking", "--day", "2026-03-12"]) == 0  # the controlled clock
    assert "1 rewards paid" in capsys.readouterr().out
    monkeypatch.setenv("BITCHANGE_ENV", "production")
    reload_settings()
    assert main(["accrue-staking", "--day", "2026-03-13"]) == 2
    monkeypatch.setenv("BITCHANGE_ENV", "test")
    reload_settings()
    with db.read() as conn:
        assert len(accrual.accrued_days(conn, 1)) == 2
