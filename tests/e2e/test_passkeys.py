"""Passkeys in a real Chromium with a virtual authenticator (the DevTools Protocol's WebAuthn
domain: CTAP2, resident keys, user verification): register from the security centre, log out,
log in with the password and the passkey, confirm an API key with it (and ready a withdrawal
with it), then sign in with the passkey alone once enabled; a clone of the authenticator (the
same key, an older signature counter) is refused; remove it."""

from __future__ import annotations

import uuid

from playwright.sync_api import CDPSession, Page, expect

from tests.e2e.conftest import log_in, log_out, signed_in, totp_code
from tests.e2e.test_accounts import PASSWORD, sign_up
from tests.mailbox import link_to, text_of


def _authenticator(page: Page) -> tuple[CDPSession, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


def _credentials(cdp: CDPSession, authenticator: str) -> list[dict]:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]


def test_passkey_register_login_passwordless_clone_and_remove(app, new_context, mailbox,
                                                              console):
    email = f"passkey-{uuid.uuid4().hex[:8]}@example.com"
    page = new_context().new_page()
    cdp, authenticator = _authenticator(page)
    sign_up(page, app, email)
    page.goto(link_to(mailbox.wait_for(email, "Confirm your email"), "/verify-email?token="))
    expect(page.locator("#verify-ok")).to_be_visible()
    log_in(page, app, email, PASSWORD)
    page.goto(app.url + "/security")
    page.click("#tfa-start")
    secret = page.locator("#tfa-secret").inner_text().strip()
    page.fill("#tfa-code", totp_code(secret))
    page.click("#tfa-confirm")
    expect(page.locator("#tfa-status")).to_have_text("2FA: on")

    # Register: a name, the password and a fresh 2FA code, then the authenticator.
    expect(page.locator("#passkeys-none")).to_be_visible()
    page.fill("#passkey-new-name", "Test laptop")
    page.fill("#passkey-password", PASSWORD)
    page.fill("#passkey-code", totp_code(secret))
    page.click("#passkey-add")
    expect(page.locator("#security-notice")).to_contain_text("added")
    rows = page.locator("#passkeys-table .passkey-row")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("input[name=name]")).to_have_value("Test laptop")
    (credential,) = _credentials(cdp, authenticator)
    assert credential["isResidentCredential"]
    assert "Test laptop" in text_of(mailbox.wait_for(email, "A passkey was added"))

    # Log out; log in with the password, then the passkey instead of a code.
    log_out(page)
    page.goto(app.url + "/login")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.click("#login-passkey")
    signed_in(page)
    used = _credentials(cdp, authenticator)[0]["signCount"]
    assert used > credential["signCount"]

    # An API key step that asks for 2FA accepts the passkey too.
    page.goto(app.url + "/security/api-keys")
    page.fill("#key-label", "passkey bot")
    page.click("#key-passkey")
    expect(page.locator("#key-passkey")).to_have_text("Passkey ready")
    page.click("#key-create")
    expect(page.locator("#new-api-key")).not_to_be_empty()
    assert _credentials(cdp, authenticator)[0]["signCount"] > used

    # So does the withdrawal form's (the passkey's answer stands in for the code).
    page.goto(app.url + "/wallet/withdraw?asset=BTC")
    page.click("#withdraw-passkey")
    expect(page.locator("#withdraw-passkey")).to_have_text("Passkey ready")
    expect(page.locator(".wallet-notice")).to_contain_text("request the withdrawal")

    # Without passwordless sign-in turned on, the passkey alone does not sign in.
    log_out(page)
    page.goto(app.url + "/login")
    page.click("#login-passwordless")
    expect(page.locator("#login-error")).to_contain_text("cannot sign in on its own")
    log_in(page, app, email, PASSWORD, totp_secret=secret)
    page.goto(app.url + "/security")
    page.click("#passwordless-switch")
    expect(page.locator("#security-notice")).to_contain_text("Passwordless sign-in is on")

    # Now the passkey alone signs in.
    log_out(page)
    page.goto(app.url + "/login")
    page.click("#login-passwordless")
    signed_in(page)
    log_out(page)

    # A clone: the same private key with an older signature counter is refused.
    latest = _credentials(cdp, authenticator)[0]
    cdp.send("WebAuthn.removeCredential", {"authenticatorId": authenticator,
                                           "credentialId": latest["credentialId"]})
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": {
        **{k: latest[k] for k in ("credentialId", "isResidentCredential", "rpId",
                                  "privateKey", "userHandle")},
        "signCount": 0}})
    page.goto(app.url + "/login")
    page.click("#login-passwordless")
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#nav-email")).to_have_count(0)

    # Remove it (after a login with the password and a code).
    log_in(page, app, email, PASSWORD, totp_secret=secret)
    page.goto(app.url + "/security")
    page.locator("#passkeys-table .passkey-remove").click()
    expect(page.locator("#passkeys-none")).to_be_visible()
    mailbox.wait_for(email, "A passkey was removed")
    assert console.errors == []
