"""The admin staking screen's rows (products with totals, the rewards account) and the terms
as the screens read them, built from a real database without Reflex."""

from __future__ import annotations

import pytest

from bitchange import db
from bitchange.staking import admin_views
from bitchange.staking.views import apr_text, lock_text
from tests.staking.conftest import USDT, make_user
from tests.staking.test_staking import fund, product, stake

pytestmark = pytest.mark.usefixtures("books")


def test_terms_read_plainly():
    assert (apr_text(525), apr_text(10_000)) == ("5.25 %", "100.00 %")
    assert (lock_text(0), lock_text(30)) == ("Flexible", "30 days")


def test_products_and_rewards_account_as_the_admin_sees_them(admin, clock):
    product_id = product(admin, lock_days=30, apr_bps=525)
    fund(admin, 40 * USDT)
    alice = make_user("alice@example.com", {"USDT": 500 * USDT})
    stake(alice, product_id, 200 * USDT)
    with db.read() as conn:
        page = admin_views.staking_page(conn)
    assert "USDT" in page.asset_codes and "BTC" in page.asset_codes
    assert page.products == [{
        "id": str(product_id), "name": "USDT staking", "asset": "USDT", "apr": "5.25 %",
        "lock": "30 days", "limits": "10.00 - 10,000.00", "staked": "200.00",
        "capacity": "50,000.00", "positions": "1", "paid": "0.00", "status": "active",
        "rewards": "ok"}]
    assert {"asset": "USDT", "balance": "40.00"} in page.pool
