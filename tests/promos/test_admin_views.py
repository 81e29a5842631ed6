"""The admin promo screen's rows (codes, redemptions of the selected code, the promotions
account), built from a real database without Reflex."""

from __future__ import annotations

from bitchange import db
from bitchange.promos import admin_views
from tests.promos.test_promos import create, funded, redeem  # noqa: F401 - fixture
from tests.staking.conftest import USDT, make_user


def test_codes_redemptions_and_pool_as_the_admin_sees_them(funded):  # noqa: F811
    code_id = create(funded, "WELCOME", amount=10 * USDT, total=100)
    create(funded, "KYCONE", condition="kyc_level_min", condition_amount=1)
    alice = make_user("alice@example.com")
    redeem(alice, "WELCOME")
    with db.read() as conn:
        none_selected = admin_views.promos_page(conn, "")
        selected = admin_views.promos_page(conn, "WELCOME")
    assert none_selected.redemptions == []
    welcome = next(c for c in selected.codes if c["code"] == "WELCOME")
    kyc = next(c for c in selected.codes if c["code"] == "KYCONE")
    assert welcome == {"id": str(code_id), "code": "WELCOME", "reward": "10.00 USDT",
                       "used": "1 / 100", "per_user": "1",
                       "window": "2026-01-01 00:00 UTC → 2026-01-31 00:00 UTC",
                       "condition": "—", "active": "yes"}
    assert kyc["condition"] == "verification level ≥ 1"
    assert selected.redemptions == [{"email": "alice@example.com",
                                     "time": "2026-01-10 12:00 UTC", "amount": "10.00 USDT"}]
    assert {"asset": "USDT", "balance": "990.00"} in selected.pool
    assert "USDT" in selected.asset_codes
