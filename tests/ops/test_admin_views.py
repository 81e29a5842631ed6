"""What the admin dashboard shows about the books (reconciliation, net deposits per asset),
built from a real database without Reflex."""

from __future__ import annotations

from sqlalchemy import text

from bitchange import db
from bitchange.ops.admin_views import external_totals, reconcile_view
from bitchange.trading.markets import assets
from tests.staking.conftest import make_user

USDT = 10**6


def test_balanced_books_show_the_net_deposits_of_every_asset(database):
    make_user("alice@example.com", {"USDT": 1_500 * USDT})
    make_user("bob@example.com", {"USDT": 500 * USDT})
    with db.read() as conn:
        view = reconcile_view(conn)
        known = assets(conn)
        assert external_totals(conn) == {"USDT": 2_000 * USDT}
    assert view.ok and view.lines == []
    assert view.summary.startswith("OK: ") and "\n" not in view.summary
    assert [t["asset"] for t in view.totals] == list(known)
    totals = {t["asset"]: t["deposited"] for t in view.totals}
    assert totals["USDT"] == known["USDT"].format(2_000 * USDT)
    assert totals["BTC"] == known["BTC"].format(0)  # no deposit yet: zero, still listed


def test_a_discrepancy_is_counted_and_listed(database):
    alice = make_user("alice@example.com", {"USDT": 100 * USDT})
    with db.write() as conn:
        conn.execute(text("UPDATE balances SET available = available + 250 "
                          "WHERE asset = 'USDT' AND account_id = (SELECT id FROM "
                          "ledger_accounts WHERE user_id = :u)"), {"u": alice})
    with db.read() as conn:
        view = reconcile_view(conn)
    assert not view.ok
    assert view.summary == f"{len(view.lines)} discrepancies found"
    assert view.lines and all(line.startswith("FAIL ") for line in view.lines)
