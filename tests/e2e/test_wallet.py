"""The wallet journey in a real browser with real email: an admin credits a deposit to a new
user's derived address, the user sees it, adds a withdrawal address and confirms it from the
email, requests a withdrawal with 2FA, confirms it by email; the admin approves and marks it
sent; the user sees "sent" with the txid, and every email arrived."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from bitchange.demo import DEMO_ADMIN_TOTP_SECRET, DEMO_PASSWORD
from tests.e2e.conftest import log_in, totp_code
from tests.e2e.test_accounts import PASSWORD, sign_up
from tests.mailbox import link_to, text_of

WITHDRAW_TO = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # an EIP-55 example address


def test_deposit_address_book_withdrawal_review_and_payout(app, new_context, mailbox, console):
    email = f"wallet-{uuid.uuid4().hex[:8]}@example.com"
    user = new_context().new_page()
    sign_up(user, app, email)
    user.goto(link_to(mailbox.wait_for(email, "Confirm your email"), "/verify-email?token="))
    expect(user.locator("#verify-ok")).to_be_visible()
    log_in(user, app, email, PASSWORD)

    # 2FA on (withdrawals require it).
    user.goto(app.url + "/security")
    user.click("#tfa-start")
    secret = user.locator("#tfa-secret").inner_text().strip()
    user.fill("#tfa-code", totp_code(secret))
    user.click("#tfa-confirm")
    expect(user.locator("#tfa-status")).to_have_text("2FA: on")

    # The user's USDT deposit address, derived from the configured key, with its QR code.
    user.click("#nav-wallet")
    expect(user.locator("#wallet-table")).to_be_visible()
    user.goto(app.url + "/wallet/deposit?asset=USDT")
    address = user.locator("#deposit-address")
    expect(address).to_have_text(re.compile(r"^0x[0-9a-fA-F]{40}$"))
    expect(user.locator("#deposit-qr")).to_be_visible()
    deposit_address = address.inner_text()
    user.goto(app.url + "/wallet/deposit?asset=ETH")  # no key configured in this app
    expect(user.locator("#deposit-unavailable")).to_contain_text("not available")

    # The admin records the confirmed on-chain deposit to that address.
    admin = new_context().new_page()
    log_in(admin, app, "admin@demo.bitchange.local", DEMO_PASSWORD,
           next_path="/admin/deposits", totp_secret=DEMO_ADMIN_TOTP_SECRET)
    deposit_txid = uuid.uuid4().hex * 2
    admin.select_option("#deposit-asset", "USDT")
    admin.fill("#deposit-target", deposit_address)
    admin.fill("#deposit-amount", "1000")
    admin.fill("#deposit-txid", deposit_txid)
    admin.fill("#deposit-vout", "0")
    admin.fill("#deposit-confirmations", "12")
    admin.click("#deposit-record")
    expect(admin.locator(".wallet-notice")).to_contain_text("credited")
    # Recording it again credits nothing.
    admin.click("#deposit-record")
    expect(admin.locator(".wallet-error")).to_contain_text("already recorded")

    # The user sees it: balance, history, email.
    user.goto(app.url + "/wallet")
    usdt = user.locator("#wallet-table .wallet-row").filter(has_text="USDT")
    expect(usdt).to_contain_text("1,000.00")
    user.goto(app.url + "/wallet/history")
    expect(user.locator("#history-table .history-row").filter(has_text="deposit")) \
        .to_contain_text(deposit_txid)
    assert "1,000.00 USDT" in text_of(mailbox.wait_for(email, "Deposit of USDT credited"))

    # Address book: add, then confirm from the emailed link.
    user.goto(app.url + "/wallet/withdraw?asset=USDT")
    user.fill("#book-address", WITHDRAW_TO.lower())  # unchecksummed: refused
    user.click("#book-add")
    expect(user.locator(".wallet-error")).to_contain_text("checksummed")
    expect(user.locator("#book-address")).to_have_value(WITHDRAW_TO.lower())  # kept to fix
    user.fill("#book-address", WITHDRAW_TO)
    user.fill("#book-label", "my ledger")
    user.click("#book-add")
    expect(user.locator("#book-table .book-state")).to_have_text("awaiting email confirmation")
    link = link_to(mailbox.wait_for(email, "Confirm your new USDT withdrawal address"),
                   "/wallet/address/confirm?token=")
    user.goto(link)
    user.click("#address-confirm")
    expect(user.locator("#address-confirmed")).to_be_visible()

    # Request the withdrawal with a 2FA code, then confirm it from the email.
    user.goto(app.url + "/wallet/withdraw?asset=USDT")
    expect(user.locator("#book-table .book-state")).to_have_text("ready")
    user.select_option("#withdraw-address", index=1)
    chosen = user.locator("#withdraw-address").input_value()
    assert chosen != ""
    user.fill("#withdraw-amount", "1")  # below the minimum: refused, and nothing is lost
    user.click("#withdraw-submit")
    expect(user.locator(".wallet-error")).to_contain_text("minimum withdrawal")
    expect(user.locator("#withdraw-address")).to_have_value(chosen)
    expect(user.locator("#withdraw-amount")).to_have_value("1")
    user.fill("#withdraw-amount", "500")
    user.fill("#withdraw-code", totp_code(secret))
    user.click("#withdraw-submit")
    expect(user.locator(".wallet-notice")).to_contain_text("Check your email")
    expect(user.locator(".wallet-error")).to_have_count(0)
    expect(user.locator("#withdraw-address")).to_have_value("")  # a done form starts afresh
    expect(user.locator("#withdraw-amount")).to_have_value("")
    row = user.locator("#withdrawals-table .withdrawal-row").first
    expect(row.locator(".withdrawal-status")).to_have_text("awaiting email confirmation")
    expect(user.locator("#withdraw-available")).to_contain_text("500.00")
    link = link_to(mailbox.wait_for(email, "Confirm your withdrawal"),
                   "/wallet/withdraw/confirm?token=")
    user.goto(link)
    expect(user.locator("#withdraw-summary")).to_contain_text(WITHDRAW_TO)
    user.click("#withdraw-confirm")
    expect(user.locator("#withdraw-confirmed")).to_be_visible()

    # The admin approves and marks it sent.
    payout_txid = "0x" + uuid.uuid4().hex * 2
    admin.goto(app.url + "/admin/withdrawals")
    item = admin.locator(".review-item").filter(has_text=email)
    expect(item.locator(".review-status")).to_have_text("pending review")
    expect(item.locator(".risk")).to_contain_text("two-factor change")
    item.locator(".review-approve").click()
    expect(item.locator(".review-status")).to_have_text("approved")
    item.locator(".review-txid input").fill(payout_txid)
    item.locator(".review-sent").click()
    expect(admin.locator(".wallet-notice")).to_contain_text("marked sent")
    expect(item).to_have_count(0)

    # The user sees "sent" with the txid; every step was emailed.
    user.goto(app.url + "/wallet/withdraw?asset=USDT")
    row = user.locator("#withdrawals-table .withdrawal-row").first
    expect(row.locator(".withdrawal-status")).to_have_text("sent")
    expect(row.locator(".withdrawal-detail")).to_contain_text(payout_txid)
    mailbox.wait_for(email, "Withdrawal confirmed: under review")
    mailbox.wait_for(email, "Withdrawal approved")
    sent = text_of(mailbox.wait_for(email, "Withdrawal sent"))
    assert payout_txid in sent and "495.00 USDT" in sent  # 500 minus the 5 USDT fee
    user.goto(app.url + "/wallet")
    expect(user.locator("#wallet-table .wallet-row").filter(has_text="USDT")) \
        .to_contain_text("500.00")
    assert console.errors == []


def _fits(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    """Every cell of the table lies within the table's own box: nothing cut off or hidden in
    a sideways scroll."""
    return page.locator(selector).evaluate(
        "t => { const r = t.getBoundingClientRect(); return [...t.querySelectorAll('td, th')]"
        ".every(c => c.getBoundingClientRect().right <= r.right + 1) }")


def test_the_admin_deposit_tables_show_every_column(app, new_context):
    admin = new_context().new_page()
    log_in(admin, app, "admin@demo.bitchange.local", DEMO_PASSWORD,
           next_path="/admin/deposits", totp_secret=DEMO_ADMIN_TOTP_SECRET)
    expect(admin.locator("#pending-deposits-empty")).to_contain_text("waiting")
    admin.select_option("#deposit-asset", "USDT")
    admin.fill("#deposit-target", "alice@demo.bitchange.local")
    admin.fill("#deposit-amount", "20000")  # above the second-approval threshold
    admin.fill("#deposit-txid", uuid.uuid4().hex * 2)
    admin.fill("#deposit-vout", "0")
    admin.fill("#deposit-confirmations", "12")
    admin.click("#deposit-record")
    row = admin.locator("#pending-deposits .pending-deposit-row").first
    expect(row).to_contain_text("admin@demo.bitchange.local")  # recorded by
    expect(admin.locator("#pending-deposits-empty")).to_have_count(0)
    expect(row.locator(".deposit-approve")).to_be_in_viewport()
    assert _fits(admin, "#pending-deposits") and _fits(admin, "#recent-deposits")
