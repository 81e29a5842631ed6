"""The wallet and withdraw pages follow their user's balances and withdrawals live: the
watcher (`bitchange.state.live`) refreshes an open tab after a deposit, a fill and each step of
a withdrawal, and nobody else's tab."""

from __future__ import annotations

import pytest

from bitchange import db, ledger
from bitchange.accounts.sessions import revoke_token, token_from_cookie_header
from bitchange.state.wallet import WalletState
from bitchange.state.withdraw import WithdrawState
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from bitchange.wallet import withdrawals
from tests.livetabs import FakeApp, browser_tab, call, cookie_for
from tests.wallet.conftest import BTC, BTC_ADDRESS, USDT, set_price
from tests.wallet.test_withdrawals import confirm_by_email, ready_address


@pytest.fixture
def watcher():  # type: ignore[no-untyped-def]
    from bitchange.state import live

    live._watches.clear()
    yield live
    live._watches.clear()


def btc(state) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return next(row for row in state.rows if row["asset"] == "BTC")


def test_wallet_and_withdraw_tabs_follow_deposits_fills_and_withdrawal_steps(world, watcher):
    w = world
    set_price("BTC-USDT", 60_000 * USDT)
    address_id = ready_address(w, w.alice, "BTC", BTC_ADDRESS)
    alice = cookie_for(w.alice.user_id)
    wallet_root, wallet = browser_tab(WalletState, "alice-wallet", "/wallet", alice)
    withdraw_root, withdraw = browser_tab(WithdrawState, "alice-withdraw",
                                          "/wallet/withdraw?asset=BTC", alice)
    bob_root, bob_wallet = browser_tab(WalletState, "bob-wallet", "/wallet",
                                       cookie_for(w.bob.user_id))
    for state in (wallet, withdraw, bob_wallet):
        call(state, "load")
    assert btc(wallet)["available"] == "2.00000000" and withdraw.available == "2.00000000"
    app = FakeApp({"alice-wallet": wallet_root, "alice-withdraw": withdraw_root,
                   "bob-wallet": bob_root})
    checked: dict = {}
    assert app.tick(checked) == []

    # A deposit credited elsewhere (an admin, another process): only Alice's tabs.
    with db.write() as conn:
        ledger.credit_deposit(conn, w.alice.account, "BTC", BTC)
    assert app.tick(checked) == ["alice-wallet", "alice-withdraw"]
    assert btc(wallet)["available"] == "3.00000000" and withdraw.available == "3.00000000"
    assert app.tick(checked) == []

    # A fill: Bob buys from Alice; both wallets move.
    service.place_order(w.alice.user_id, "BTC-USDT",
                        OrderRequest("SELL", "limit", 50_000 * USDT, BTC // 100))
    service.place_order(w.bob.user_id, "BTC-USDT",
                        OrderRequest("BUY", "limit", 50_000 * USDT, BTC // 100))
    assert app.tick(checked) == ["alice-wallet", "alice-withdraw", "bob-wallet"]
    assert btc(wallet)["available"] == "2.99000000"
    assert btc(bob_wallet)["available"] == "0.00998000"  # 0.01 less the 0.2% taker fee

    # Each step of a withdrawal shows on the withdraw tab; the wallet follows the held funds.
    withdrawal_id = withdrawals.request(w.alice.user_id, address_id, BTC // 10, w.clock.code())
    assert app.tick(checked) == ["alice-wallet", "alice-withdraw"]
    assert withdraw.rows[0]["status"] == "awaiting email confirmation"
    assert btc(wallet)["pending"] == "0.10000000"
    confirm_by_email(w)  # no balance moves: only the withdraw tab
    assert app.tick(checked) == ["alice-withdraw"]
    assert withdraw.rows[0]["status"] == "pending review"
    with db.write() as conn:
        withdrawals.approve(conn, w.admin.user_id, withdrawal_id)
    assert app.tick(checked) == ["alice-withdraw"]
    assert withdraw.rows[0]["status"] == "approved"
    with db.write() as conn:
        withdrawals.mark_sent(conn, w.admin.user_id, withdrawal_id, "ab" * 32)
    assert app.tick(checked) == ["alice-wallet", "alice-withdraw"]
    assert (withdraw.rows[0]["status"], withdraw.rows[0]["txid"]) == ("sent", "ab" * 32)
    assert btc(wallet)["total"] == "2.89000000" and btc(wallet)["pending"] == "0.00000000"
    assert app.tick(checked) == []


def test_a_tab_whose_session_ended_gets_no_private_data(world, watcher):
    w = world
    alice = cookie_for(w.alice.user_id)
    root, wallet = browser_tab(WalletState, "alice-wallet", "/wallet", alice)
    call(wallet, "load")
    app = FakeApp({"alice-wallet": root})
    checked: dict = {}
    app.tick(checked)
    with db.write() as conn:
        ledger.credit_deposit(conn, w.alice.account, "BTC", BTC)
    app.tick(checked)
    assert btc(wallet)["available"] == "3.00000000"
    with db.write() as conn:  # she logs out in another tab; then another deposit
        revoke_token(conn, token_from_cookie_header(alice))
        ledger.credit_deposit(conn, w.alice.account, "BTC", BTC)
    app.tick(checked)
    assert btc(wallet)["available"] == "3.00000000"  # what it showed before, nothing newer
