"""The staking screen's view (`bitchange.staking.views.staking_view`): open products with what
the user can stake, the user's positions with rewards, lock and the pool's status; built from
a real database without Reflex, for one user only."""

from __future__ import annotations

from datetime import date

import pytest

from bitchange import db
from bitchange.staking import accrual
from bitchange.staking.views import staking_view
from tests.staking.conftest import USDT, make_user
from tests.staking.test_staking import fund, product, redeem, stake

pytestmark = pytest.mark.usefixtures("books")


def test_products_and_positions_as_the_user_sees_them(admin, clock):
    locked = product(admin, lock_days=30, apr_bps=525)
    flexible = product(admin)
    alice = make_user("alice@example.com", {"USDT": 5_000 * USDT})
    bob = make_user("bob@example.com")
    fund(admin, 100 * USDT)
    in_lock = stake(alice, locked, 1_000 * USDT)
    free = stake(alice, flexible, 500 * USDT)
    clock.set(2026, 3, 12, 0, 10)
    accrual.accrue_day(date(2026, 3, 11))
    with db.read() as conn:
        view = staking_view(conn, alice)
        bobs = staking_view(conn, bob)
    by_id = {p["id"]: p for p in view.products}
    assert by_id[str(locked)] == {
        "id": str(locked), "name": "USDT staking", "asset": "USDT", "apr": "5.25 %",
        "lock": "30 days", "min": "10.00", "max": "10,000.00", "left": "49,000.00",
        "available": by_id[str(locked)]["available"], "rewards": ""}
    assert by_id[str(flexible)]["lock"] == "Flexible"
    assert by_id[str(flexible)]["available"] == by_id[str(locked)]["available"]
    positions = {v["id"]: v for v in view.positions}
    assert positions[str(in_lock)] | {"started": "", "unlocks": ""} == {
        "id": str(in_lock), "product": "USDT staking", "asset": "USDT", "amount": "1,000.00",
        "apr": "5.25 %", "started": "", "unlocks": "", "reward": "0.143835",
        "status": "active", "redeemable": "", "rewards_note": ""}
    assert positions[str(in_lock)]["unlocks"].startswith("2026-04-09")
    assert (positions[str(free)]["unlocks"], positions[str(free)]["redeemable"]) == (
        "Flexible", "yes")
    assert bobs.positions == [] and {p["available"] for p in bobs.products} == {"0.00"}

    redeem(alice, free)
    with db.read() as conn:
        after = {v["id"]: v for v in staking_view(conn, alice).positions}
    assert (after[str(free)]["status"], after[str(free)]["redeemable"]) == ("redeemed", "")


def test_an_empty_reward_pool_is_said_on_the_product_and_the_position(admin, clock):
    alice = make_user("alice@example.com", {"USDT": 10_000 * USDT})
    bob = make_user("bob@example.com", {"USDT": 10_000 * USDT})
    flexible = product(admin)
    fund(admin, accrual.daily_reward(1_000 * USDT, 1000))  # one position's day only
    stake(alice, flexible, 1_000 * USDT)
    stake(bob, flexible, 1_000 * USDT)
    clock.set(2026, 3, 12, 0, 10)
    accrual.accrue_day(date(2026, 3, 11))
    with db.read() as conn:
        view = staking_view(conn, bob)
    assert view.products[0]["rewards"] == "Rewards paused: the reward pool is being refilled"
    assert view.positions[0]["rewards_note"] == "paused (pool empty)"
