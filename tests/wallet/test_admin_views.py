"""The admin wallet screens' rows (recorded deposits, the withdrawal review queue), built from
a real database without Reflex; loading the review queue writes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from bitchange import db
from bitchange.jobs import tasks
from bitchange.state.admin.withdrawals import AdminWithdrawalsState
from bitchange.wallet import admin_views, deposits
from bitchange.wallet.tables import WithdrawalEvent
from tests.accounts.test_handlers import session_for, state_of
from tests.wallet.conftest import ADMIN_SECRET, BTC, USDT
from tests.wallet.test_withdrawals import confirm_by_email, request, status, w  # noqa: F401

TXID = "ab" * 32


def test_deposits_page_splits_waiting_from_recent(w, settings):  # noqa: F811
    settings(DEPOSIT_SECOND_APPROVAL_USDT="10000")
    with db.write() as conn:
        small = deposits.record(conn, asset="USDT", amount=250 * USDT, txid=TXID, vout=0,
                                confirmations=12, user_email=w.alice.email,
                                recorded_by=w.admin.user_id)
        large = deposits.record(conn, asset="BTC", amount=BTC, txid=TXID, vout=1,
                                confirmations=6, user_email=w.bob.email,
                                recorded_by=w.admin.user_id)
    with db.read() as conn:
        page = admin_views.deposits_page(conn)
    assert page.threshold == "10,000.00"
    assert [r["id"] for r in page.pending] == [str(large.deposit_id)]
    assert page.pending[0] | {"time": ""} == {
        "id": str(large.deposit_id), "time": "", "email": "bob@example.com", "asset": "BTC",
        "amount": "1.00000000", "txid": f"{TXID}:1", "conf": "6",
        "status": "pending approval", "by": "admin1@example.com", "value": "60,000.00"}
    assert [(r["id"], r["amount"], r["status"]) for r in page.recent] == [
        (str(small.deposit_id), "250.00", "credited")]


def test_review_rows_carry_the_risk_context(w):  # noqa: F811
    withdrawal_id = request(w)
    confirm_by_email(w)
    with db.read() as conn:
        rows = admin_views.review_rows(conn)
    assert len(rows) == 1
    row = rows[0]
    assert (row["id"], row["email"], row["amount"], row["fee"], row["raw_status"]) == (
        str(withdrawal_id), "alice@example.com", "0.10000000 BTC", "0.00020000",
        "pending_review")
    assert row["value"] == "6,000.00 USDT" and row["approvals"] == "1 approval"
    assert row["age"] == "account 11 days old"
    assert row["history"] == "0 earlier withdrawals sent"
    assert admin_views.four_eyes_threshold() == "10,000.00"


def test_loading_the_review_queue_writes_nothing(w):  # noqa: F811
    withdrawal_id = request(w)
    w.clock.advance(minutes=31)  # the email link has expired, the request is not cancelled yet
    with db.read() as conn:
        events_before = conn.scalar(select(func.count()).select_from(WithdrawalEvent))
    admin = state_of(AdminWithdrawalsState, session_for(w.admin.email, w.clock.code(ADMIN_SECRET)))
    admin.load()
    with db.read() as conn:
        events_after = conn.scalar(select(func.count()).select_from(WithdrawalEvent))
    assert [r["raw_status"] for r in admin.rows] == ["awaiting_email"]
    assert events_after == events_before and status(withdrawal_id) == "awaiting_email"
    # Expiring is the scheduled job's work.
    assert tasks.expire_withdrawals() == "1 unconfirmed withdrawal requests expired"
    assert status(withdrawal_id) == "cancelled"
