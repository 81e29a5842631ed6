"""The account page in a real browser with real email: change the address (the old one gets the
notice, the new one the link; nothing changes before the click; the other session ends), set
and delete a price alert, download the data export, close the account (then it cannot log in)."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.test_accounts import PASSWORD, sign_up
from tests.mailbox import link_to, text_of


def test_email_change_alert_export_and_closure(app, new_context, mailbox, console):
    old = f"change-{uuid.uuid4().hex[:8]}@example.com"
    new = f"moved-{uuid.uuid4().hex[:8]}@example.com"
    page = new_context().new_page()
    sign_up(page, app, old)
    page.goto(link_to(mailbox.wait_for(old, "Confirm your email"), "/verify-email?token="))
    expect(page.locator("#verify-ok")).to_be_visible()
    log_in(page, app, old, PASSWORD)
    other = new_context().new_page()
    log_in(other, app, old, PASSWORD)

    page.goto(app.url + "/security/account")
    expect(page.locator("#account-email")).to_have_text(old)
    page.fill("#email-new", new)
    page.fill("#email-password", PASSWORD)
    page.click("#email-submit")
    expect(page.locator("#account-notice")).to_contain_text(new)
    expect(page.locator("#email-pending")).to_contain_text(new)
    notice = mailbox.wait_for(old, "A change of your email address was asked")
    assert new in text_of(notice) and link_to(notice, "/not-me?token=")
    link = link_to(mailbox.wait_for(new, "Confirm your new email address"),
                   "/confirm-email-change?token=")
    page.reload()
    expect(page.locator("#account-email")).to_have_text(old)  # not before the click

    page.goto(link)
    expect(page.locator("#email-change-ok")).to_be_visible()
    page.goto(app.url + "/security/account")
    expect(page.locator("#account-email")).to_have_text(new)
    mailbox.wait_for(old, "Your email address was changed")
    other.goto(app.url + "/security")  # the other session ended
    expect(other).to_have_url(re.compile(r".*/login"))

    # A price alert: set, listed, deleted.
    page.goto(app.url + "/alerts")
    page.fill("#alert-price", "123456")
    page.click("#alert-submit")
    rows = page.locator("#alerts-table .alert-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("at or above")
    rows.first.locator(".alert-delete").click()
    expect(rows).to_have_count(0)

    # The data export, as the browser downloads it.
    page.goto(app.url + "/security/account")
    with page.expect_download() as download:
        page.click("#export-download")
    data = json.loads(open(download.value.path()).read())  # noqa: SIM115
    assert data["profile"]["email"] == new and data["login_history"]

    # Close the account (nothing in it), then it cannot log in.
    page.fill("#close-password", PASSWORD)
    page.fill("#close-confirm", "CLOSE")
    page.click("#close-submit")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))
    mailbox.wait_for(new, "Your BitChange account is closed")
    page.goto(app.url + "/login")
    page.fill("#login-email", new)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("This account is closed.")
    assert console.errors == []
