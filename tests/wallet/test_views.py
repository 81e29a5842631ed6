"""The wallet screens' views (`bitchange.wallet.views`; the dashboard's switches in
`admin_views`), built from a real database without Reflex: what each row reads, that each is
built for its own user only, and that building them writes nothing (a deposit address is
assigned only when asked; an expired withdrawal link is shown as such, the job cancels it)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bitchange import db, ledger
from bitchange.db.models import LedgerTransaction
from bitchange.jobs import tasks
from bitchange.wallet import admin_views, controls, deposits, transfers, views
from bitchange.wallet.errors import WalletError
from bitchange.wallet.tables import DepositAddress, Withdrawal, WithdrawalEvent
from tests.wallet.conftest import BTC, BTC_ADDRESS, USDT, emails, set_price, token_in
from tests.wallet.test_chains import BIP84_FIRST, BIP84_ZPUB
from tests.wallet.test_withdrawals import confirm_by_email, request, status, w  # noqa: F401

TXID = "cd" * 32


def _rows() -> tuple[int, ...]:
    """How many rows the tables a wallet view could write to hold."""
    with db.read() as conn:
        return tuple(conn.scalar(select(func.count()).select_from(t.__table__))
                     for t in (DepositAddress, Withdrawal, WithdrawalEvent, LedgerTransaction))


def test_page_asset_falls_back_to_btc():
    assert [views.page_asset(a) for a in ("usdt", "ETH", "DOGE", "")] == [
        "USDT", "ETH", "BTC", "BTC"]


def test_wallet_view_per_asset_and_total(world):
    set_price("BTC-USDT", 60_000 * USDT)
    with db.write() as conn:
        ledger.credit_deposit(conn, world.alice.account, "ETH", BTC // 2, ref_type="test")
    with db.read() as conn:
        view = views.wallet_view(conn, world.alice.user_id)
        bobs = views.wallet_view(conn, world.bob.user_id)
    by_asset = {r["asset"]: r for r in view.rows}
    assert by_asset["BTC"] == {
        "asset": "BTC", "name": by_asset["BTC"]["name"], "total": "2.00000000",
        "available": "2.00000000", "in_orders": "0.00000000", "pending": "0.00000000",
        "value": "120,000.00", "deposit": "/wallet/deposit?asset=BTC",
        "withdraw": "/wallet/withdraw?asset=BTC", "trade": "/trade/BTC-USDT"}
    assert by_asset["USDT"]["trade"] == "/trade/BTC-USDT"
    assert by_asset["ETH"]["value"] == "no price" and view.unpriced == "ETH"
    assert view.total_usdt == "220,000.00"  # 2 BTC at 60,000 and 100,000 USDT
    assert {r["asset"]: r["available"] for r in bobs.rows}["BTC"] == "0.00000000"
    assert bobs.total_usdt == "1,000.00" and bobs.unpriced == ""


def test_deposit_view_reads_and_the_address_is_assigned_only_when_asked(world, settings):
    settings(DEPOSIT_XPUB_BTC=BIP84_ZPUB)
    before = _rows()
    with db.read() as conn:
        fresh = views.deposit_view(conn, world.alice.user_id, "BTC")
        eth = views.deposit_view(conn, world.alice.user_id, "ETH")
    assert _rows() == before
    assert (fresh.available, fresh.address, fresh.qr, fresh.network) == (True, "", "", "Bitcoin")
    assert fresh.rows == [] and fresh.confirmations >= 1
    assert not eth.available and "not available" in eth.reason and eth.address == ""

    with db.write() as conn:
        deposits.deposit_address(conn, world.alice.user_id, "BTC")
        deposits.record(conn, asset="BTC", amount=BTC // 4, txid=TXID, vout=0,
                        confirmations=6, user_email=world.alice.email,
                        recorded_by=world.admin.user_id)
    with db.read() as conn:
        assigned = views.deposit_view(conn, world.alice.user_id, "BTC")
        bobs = views.deposit_view(conn, world.bob.user_id, "BTC")
    assert assigned.address == BIP84_FIRST and assigned.qr.startswith("data:image/svg+xml")
    assert [(r["amount"], r["status"], r["detail"]) for r in assigned.rows] == [
        ("0.25000000", "pending", f"txid {TXID}:0")]  # unpriced: waits for a second admin
    assert (bobs.address, bobs.rows) == ("", [])  # nothing of Alice's


def test_withdraw_view_book_form_terms_and_rows(w):  # noqa: F811
    with db.write() as conn:
        controls.set_paused(conn, w.admin.user_id, "BTC", True, reason="node upgrade")
        controls.set_paused(conn, w.admin.user_id, "BTC", False)
    withdrawal_id = request(w)
    confirm_by_email(w)
    with db.read() as conn:
        view = views.withdraw_view(conn, w.alice.user_id, "BTC")
        usdt = views.withdraw_view(conn, w.alice.user_id, "USDT")
        bobs = views.withdraw_view(conn, w.bob.user_id, "BTC")
    assert [(r["address"], r["state"]) for r in view.book] == [(BTC_ADDRESS, "ready")]
    assert view.ready == [{"id": str(w.btc_address), "text": BTC_ADDRESS}]
    assert view.rows == [{
        "id": str(withdrawal_id), "time": view.rows[0]["time"], "amount": "0.10000000",
        "receive": "0.09980000", "address": BTC_ADDRESS, "status": "pending review",
        "txid": "", "reason": "", "cancellable": "yes"}]
    assert (view.available, view.fee, view.minimum) == ("1.90000000", "0.00020000",
                                                        "0.00100000")
    assert view.limit == "6,000.00 of 50,000.00 USDT used in the last 24h"
    assert view.paused == ""
    assert (usdt.book, usdt.rows) == ([], [])  # another asset's page
    assert (bobs.book, bobs.ready, bobs.rows) == ([], [], [])


def test_withdraw_view_shows_a_pause(w):  # noqa: F811
    with db.write() as conn:
        controls.set_paused(conn, w.admin.user_id, "BTC", True, reason="node upgrade")
    with db.read() as conn:
        view = views.withdraw_view(conn, w.alice.user_id, "BTC")
    assert "node upgrade" in view.paused


def test_an_expired_link_reads_as_expired_and_nothing_is_written(w):  # noqa: F811
    withdrawal_id = request(w)
    w.clock.advance(minutes=31)  # past the 30-minute link; the job has not run yet
    before = _rows()
    with db.read() as conn:
        view = views.withdraw_view(conn, w.alice.user_id, "BTC")
    assert _rows() == before and status(withdrawal_id) == "awaiting_email"
    assert (view.rows[0]["status"], view.rows[0]["reason"]) == views.EXPIRED
    assert view.rows[0]["cancellable"] == "yes"  # cancelling releases the funds now
    assert tasks.expire_withdrawals() == "1 unconfirmed withdrawal requests expired"
    with db.read() as conn:
        row = views.withdraw_view(conn, w.alice.user_id, "BTC").rows[0]
    assert (row["status"], row["reason"], row["cancellable"]) == (
        "cancelled", "email confirmation expired", "")


def test_withdrawal_summary_of_the_emailed_link(w):  # noqa: F811
    request(w)
    token = token_in(emails(w.alice.email, "withdrawal_requested")[-1])
    with db.read() as conn:
        summary = views.withdrawal_summary(conn, token)
        assert views.withdrawal_summary(conn, "not-a-token") is None
        assert views.withdrawal_summary(conn, "") is None
    assert summary == (f"0.10000000 BTC to {BTC_ADDRESS} (network fee 0.00020000; the "
                       "recipient gets 0.09980000)")
    w.clock.advance(minutes=31)
    with db.read() as conn:
        assert views.withdrawal_summary(conn, token) is None


def test_transfer_view(world, settings):
    settings(TRANSFER_DAILY_LIMIT_USDT="10000")
    transfers.send(world.alice.user_id, world.bob.email, "USDT", 250 * USDT, "",
                   world.clock.code())
    with db.read() as conn:
        alice = views.transfer_view(conn, world.alice.user_id)
        bob = views.transfer_view(conn, world.bob.user_id)
    assert {"BTC", "ETH", "USDT"} <= set(alice.assets)
    assert alice.limit == "250.00 of 10,000.00 USDT used in the last 24h"
    assert bob.limit == "0.00 of 10,000.00 USDT used in the last 24h"


def test_history_view_filters_signs_and_csv(world, settings):
    settings(TRANSFER_DAILY_LIMIT_USDT="10000")
    transfers.send(world.alice.user_id, world.bob.email, "USDT", 250 * USDT, "rent",
                   world.clock.code())
    with db.read() as conn:
        everything = views.history_view(conn, world.alice.user_id)
        transfers_only = views.history_view(conn, world.bob.user_id, "transfer")
        unknown = views.history_view(conn, world.alice.user_id, "nonsense", "DOGE")
        bad = views.history_view(conn, world.alice.user_id, start="31/01/2030")
        text = views.history_csv(conn, world.alice.user_id, "transfer", "USDT")
    sent = next(r for r in everything.rows if r["type"] == "transfer")
    assert (sent["asset"], sent["amount"], sent["status"], sent["detail"]) == (
        "USDT", "-250.00", "done", "to bob@example.com — rent")
    assert everything.count == len(everything.rows) and "USDT" in everything.assets
    assert [(r["amount"], r["detail"]) for r in transfers_only.rows] == [
        ("+250.00", "from alice@example.com — rent")]
    assert unknown.count == everything.count  # an unknown type or asset means "any"
    assert (bad.rows, bad.count, bad.error) == ([], 0, "Dates are written YYYY-MM-DD.")
    assert text.splitlines()[1].split(",")[1:4] == ["transfer", "USDT", "-250.000000"]


def test_switch_rows(world):
    with pytest.raises(WalletError, match="Unknown switch"), db.write() as conn:
        controls.toggle(conn, world.admin.user_id, "DOGE")
    with db.write() as conn:
        assert controls.toggle(conn, world.admin.user_id, "ETH", reason="fork") is True
    with db.read() as conn:
        rows = admin_views.switch_rows(conn)
    assert rows[0] == {"scope": "*", "label": "All withdrawals", "paused": "", "reason": ""}
    assert {"scope": "ETH", "label": "ETH", "paused": "yes", "reason": "fork"} in rows
    assert [r["scope"] for r in rows] == ["*", "BTC", "ETH", "USDT"]
