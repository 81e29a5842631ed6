"""The promo code screen's view (`bitchange.promos.views`): a user's redemptions and the notice
after one, built from a real database without Reflex, for one user only."""

from __future__ import annotations

from bitchange import db
from bitchange.promos.views import redeemed_notice, redemption_rows
from tests.promos.test_promos import create, funded, redeem  # noqa: F401 - fixture
from tests.staking.conftest import USDT, make_user


def test_redemptions_and_the_notice_as_the_user_sees_them(funded, clock):  # noqa: F811
    create(funded, "WELCOME", amount=10 * USDT)
    create(funded, "SPRING", amount=2_500_000)
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    redeem(alice, "WELCOME")
    clock.set(2026, 1, 11, 9, 30)
    result = redeem(alice, "spring")
    with db.read() as conn:
        rows = redemption_rows(conn, alice)
        bobs = redemption_rows(conn, bob)
        notice = redeemed_notice(conn, result)
    assert rows == [
        {"code": "SPRING", "time": "2026-01-11 09:30 UTC", "amount": "2.50", "asset": "USDT"},
        {"code": "WELCOME", "time": "2026-01-10 12:00 UTC", "amount": "10.00", "asset": "USDT"}]
    assert bobs == []
    assert notice == "Done: 2.50 USDT was added to your available balance."
