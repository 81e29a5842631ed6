"""Verification in a real browser: a user uploads documents (a file of the wrong type is
refused), submits, an admin reviews the documents through the authorised route (which refuses
the user and a visitor) and approves; the user gets the email and a higher limit."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from bitchange.config import PROJECT_ROOT
from tests.e2e.extras_helpers import (
    ALICE,
    PDF,
    log_in_admin,
    log_in_trader,
    png,
    upload,
)


def test_kyc_submitted_approved_and_the_limit_rises(app, new_context, mailbox, console):
    user = new_context().new_page()
    log_in_trader(user, app, ALICE)
    user.goto(app.url + "/verification")
    expect(user.locator("#kyc-level")).to_have_text("0 · Email verified")
    current = user.locator("#kyc-limits .limit-row.current")
    expect(current).to_contain_text("2,000.00 USDT")

    user.fill("#kyc-full-name", "Alice Demo")
    user.fill("#kyc-birth", "1990-04-01")
    user.fill("#kyc-country", "France")
    user.fill("#kyc-document-number", "XK1234567")
    # A file that claims to be a PNG but is not one is refused (checked from its content).
    upload(user, "kyc-id_front", "front.png", "image/png", b"GIF89a not really a png")
    expect(user.locator("#kyc-error")).to_contain_text("Only JPEG or PNG images and PDF")
    upload(user, "kyc-id_front", "front.png", "image/png", png())
    expect(user.locator("#kyc-id_front-done")).to_be_visible()
    upload(user, "kyc-id_back", "back.png", "image/png", png(6, 4))
    expect(user.locator("#kyc-id_back-done")).to_be_visible()
    upload(user, "kyc-selfie", "selfie.pdf", "application/pdf", PDF)
    expect(user.locator("#kyc-selfie-done")).to_be_visible()
    user.click("#kyc-submit")
    expect(user.locator("#kyc-pending")).to_be_visible()
    # The files are in the private folder, and nothing reached Reflex's public upload folder.
    assert len(list((app.data_dir / "private" / "kyc").iterdir())) == 3
    public = PROJECT_ROOT / "uploaded_files"
    assert not public.exists() or not any(public.rglob("*"))
    mailbox.wait_for(ALICE, "We received your verification documents")

    admin = new_context().new_page()
    log_in_admin(admin, app)
    admin.goto(app.url + "/admin/kyc")
    row = admin.locator("#kyc-queue .kyc-queue-row", has_text=ALICE)
    expect(row).to_have_count(1)
    row.locator(".kyc-review").click()
    expect(admin.locator("#kyc-viewer-title")).to_contain_text(ALICE)
    expect(admin.locator("#kyc-viewer")).to_contain_text("XK1234567")
    images = admin.locator(".kyc-document-image")
    expect(images).to_have_count(2)
    # The images really load (through the authorised route, with the admin's cookie).
    admin.wait_for_function(
        "() => [...document.querySelectorAll('.kyc-document-image')]"
        ".every(i => i.complete && i.naturalWidth > 0)")
    url = app.url + images.first.get_attribute("src")
    assert re.search(r"/documents/[A-Za-z0-9_-]{43}$", url)
    assert admin.request.get(url).status == 200
    # Neither the user who uploaded it nor a visitor can fetch it by its URL.
    assert user.request.get(url).status == 404
    assert new_context().request.get(url).status == 404

    admin.click("#kyc-approve")
    expect(admin.locator("#kyc-admin-notice")).to_contain_text("approved")
    approved = mailbox.wait_for(ALICE, "Your verification is approved")
    assert "50,000.00 USDT" in approved.get_body(preferencelist=("plain",)).get_content()

    user.goto(app.url + "/verification")
    expect(user.locator("#kyc-level")).to_have_text("1 · Identity verified")
    expect(current).to_contain_text("50,000.00 USDT")
    expect(user.locator("#kyc-address")).to_be_visible()  # level 2 is next
    assert console.errors == []
