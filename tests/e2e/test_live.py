"""Screens are live in a real browser: a user's open wallet tab shows a deposit the moment an
admin credits it, their open withdraw tab follows the withdrawal through email confirmation,
approval and payout, and the landing and markets tables show a trade's price, all with no
reload (a mark set on the page's window object survives to the end) and no polling."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from bitchange.demo import DEMO_ADMIN_TOTP_SECRET, DEMO_PASSWORD
from tests.e2e.conftest import log_in, totp_code
from tests.e2e.test_accounts import PASSWORD, sign_up
from tests.e2e.test_trading import ALICE, BOB, LIVE, open_market
from tests.e2e.test_wallet import WITHDRAW_TO
from tests.mailbox import link_to


def mark_page(page: Page) -> None:
    """A reload would forget this."""
    page.evaluate("window.__not_reloaded = true")


def not_reloaded(page: Page) -> bool:
    return page.evaluate("window.__not_reloaded === true")


def test_wallet_tabs_follow_a_deposit_and_a_withdrawal_review_live(app, new_context, mailbox,
                                                                   console):
    email = f"live-{uuid.uuid4().hex[:8]}@example.com"
    user = new_context().new_page()
    sign_up(user, app, email)
    user.goto(link_to(mailbox.wait_for(email, "Confirm your email"), "/verify-email?token="))
    expect(user.locator("#verify-ok")).to_be_visible()
    log_in(user, app, email, PASSWORD)
    user.goto(app.url + "/security")
    user.click("#tfa-start")
    secret = user.locator("#tfa-secret").inner_text().strip()
    user.fill("#tfa-code", totp_code(secret))
    user.click("#tfa-confirm")
    expect(user.locator("#tfa-status")).to_have_text("2FA: on")
    user.goto(app.url + "/wallet/deposit?asset=USDT")
    address = user.locator("#deposit-address")
    expect(address).to_have_text(re.compile(r"^0x[0-9a-fA-F]{40}$"))
    deposit_address = address.inner_text()

    # The wallet tab is open; the admin credits a deposit; the tab shows it.
    user.goto(app.url + "/wallet")
    usdt = user.locator("#wallet-table .wallet-row").filter(has_text="USDT")
    expect(usdt).to_contain_text("0.00")
    mark_page(user)
    admin = new_context().new_page()
    log_in(admin, app, "admin@demo.bitchange.local", DEMO_PASSWORD,
           next_path="/admin/deposits", totp_secret=DEMO_ADMIN_TOTP_SECRET)
    admin.select_option("#deposit-asset", "USDT")
    admin.fill("#deposit-target", deposit_address)
    admin.fill("#deposit-amount", "1000")
    admin.fill("#deposit-txid", uuid.uuid4().hex * 2)
    admin.fill("#deposit-vout", "0")
    admin.fill("#deposit-confirmations", "12")
    admin.click("#deposit-record")
    expect(admin.locator(".wallet-notice")).to_contain_text("credited")
    expect(usdt).to_contain_text("1,000.00", timeout=LIVE)
    assert not_reloaded(user)

    # A confirmed withdrawal address (the emailed link opens in another tab).
    mail = user.context.new_page()
    user.goto(app.url + "/wallet/withdraw?asset=USDT")
    user.fill("#book-address", WITHDRAW_TO)
    user.click("#book-add")
    mail.goto(link_to(mailbox.wait_for(email, "Confirm your new USDT withdrawal address"),
                      "/wallet/address/confirm?token="))
    mail.click("#address-confirm")
    expect(mail.locator("#address-confirmed")).to_be_visible()
    # From here the withdraw tab shows each step of the request without a reload.
    user.goto(app.url + "/wallet/withdraw?asset=USDT")
    expect(user.locator("#book-table .book-state")).to_have_text("ready")
    mark_page(user)
    user.select_option("#withdraw-address", index=1)
    user.fill("#withdraw-amount", "500")
    user.fill("#withdraw-code", totp_code(secret))
    user.click("#withdraw-submit")
    status = user.locator("#withdrawals-table .withdrawal-row").first.locator(
        ".withdrawal-status")
    expect(status).to_have_text("awaiting email confirmation")
    mail.goto(link_to(mailbox.wait_for(email, "Confirm your withdrawal"),
                      "/wallet/withdraw/confirm?token="))
    mail.click("#withdraw-confirm")
    expect(mail.locator("#withdraw-confirmed")).to_be_visible()
    expect(status).to_have_text("pending review", timeout=LIVE)

    admin.goto(app.url + "/admin/withdrawals")
    item = admin.locator(".review-item").filter(has_text=email)
    item.locator(".review-approve").click()
    expect(item.locator(".review-status")).to_have_text("approved")
    expect(status).to_have_text("approved", timeout=LIVE)
    payout_txid = "0x" + uuid.uuid4().hex * 2
    item.locator(".review-txid input").fill(payout_txid)
    item.locator(".review-sent").click()
    expect(admin.locator(".wallet-notice")).to_contain_text("marked sent")
    expect(status).to_have_text("sent", timeout=LIVE)
    expect(user.locator("#withdrawals-table .withdrawal-row").first.locator(
        ".withdrawal-detail")).to_contain_text(payout_txid, timeout=LIVE)
    assert not_reloaded(user)
    assert console.errors == []


def test_the_landing_and_markets_tables_show_a_trade_live(app, new_context, console):
    # ETH-USDT: ETH-BTC stays without trades for the landing page's "no price" check.
    visitor = new_context().new_page()
    visitor.goto(app.url + "/")
    landing = visitor.locator("#markets-table .market-row", has_text="ETH-USDT")
    expect(landing).to_be_visible()
    mark_page(visitor)
    watcher = new_context().new_page()
    watcher.goto(app.url + "/markets")
    listed = watcher.locator("#markets-table .market-row", has_text="ETH-USDT")
    expect(listed).to_be_visible()
    mark_page(watcher)

    alice = open_market(new_context, app, ALICE, "ETH-USDT")
    bob = open_market(new_context, app, BOB, "ETH-USDT")
    alice.click("#order-side-sell")
    alice.fill("#order-price", "2123.45")
    alice.fill("#order-amount", "0.01")
    alice.click("#place-order")
    expect(alice.locator("#order-notice")).to_contain_text("placed in the book")
    bob.fill("#order-price", "2123.45")
    bob.fill("#order-amount", "0.01")
    bob.click("#place-order")
    expect(bob.locator("#order-notice")).to_contain_text("Bought")

    for row in (landing, listed):
        expect(row).to_contain_text("2,123.45", timeout=LIVE)
    assert not_reloaded(visitor) and not_reloaded(watcher)
    assert console.errors == []


@pytest.fixture(scope="module")
def app(own_app):  # type: ignore[no-untyped-def]
    """Its trades move the market tables: in an app of its own, not the shared one."""
    return own_app
