"""Accounts in a real browser with real email: sign-up to 2FA and sessions, password reset,
and handlers that refuse forged events sent straight down the websocket."""

from __future__ import annotations

import re
import sqlite3
import uuid

from playwright.sync_api import Page, expect

from bitchange.demo import DEMO_ADMIN_TOTP_SECRET, DEMO_PASSWORD
from bitchange.state.admin.user import AdminUserState
from bitchange.state.security import SecurityState
from tests.e2e.conftest import log_in, log_out, totp_code
from tests.mailbox import link_to, text_of

PASSWORD = "journey-passphrase-42"


def _new_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def sign_up(page: Page, app, email: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(app.url + "/signup")
    page.fill("#signup-email", email)
    page.fill("#signup-password", password)
    page.fill("#signup-confirm", password)
    page.click("#signup-submit")
    expect(page.locator("#signup-done")).to_contain_text("Check your inbox")


def _active_sessions(app, email: str) -> list[int]:  # type: ignore[no-untyped-def]
    path = app.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT s.id FROM user_sessions s JOIN users u ON u.id = s.user_id "
            "WHERE u.email = ? AND s.revoked_at IS NULL AND s.token_hash IS NOT NULL "
            "ORDER BY s.id", (email,)).fetchall()
    return [r[0] for r in rows]


def _user_id(app, email: str) -> int:  # type: ignore[no-untyped-def]
    path = app.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()[0]


def test_the_confirm_email_banner_goes_once_confirmed(app, new_context, mailbox, console):
    email = _new_email("banner")
    browser = new_context()
    page = browser.new_page()
    sign_up(page, app, email)
    log_in(page, app, email, PASSWORD)
    expect(page.locator("#unverified-banner")).to_be_visible()
    other_tab = browser.new_page()
    other_tab.goto(app.url + "/wallet")
    expect(other_tab.locator("#unverified-banner")).to_be_visible()

    page.goto(link_to(mailbox.wait_for(email, "Confirm your email"), "/verify-email?token="))
    expect(page.locator("#verify-ok")).to_be_visible()
    expect(page.locator("#unverified-banner")).to_have_count(0)  # on the page that confirmed
    other_tab.click("#nav-staking")  # the other tab, on its next page
    other_tab.wait_for_url("**/staking")
    expect(other_tab.locator("#unverified-banner")).to_have_count(0)
    assert console.errors == []


def test_sign_up_verify_2fa_sessions_and_revoke(app, new_context, mailbox, console):
    email = _new_email("journey")
    first = new_context().new_page()
    sign_up(first, app, email)

    # Verify from the received email, following its link.
    confirm = mailbox.wait_for(email, "Confirm your email")
    first.goto(link_to(confirm, "/verify-email?token="))
    expect(first.locator("#verify-ok")).to_be_visible()

    log_in(first, app, email, PASSWORD)
    first.goto(app.url + "/security")
    expect(first.locator("#tfa-status")).to_have_text("2FA: off")
    first.click("#tfa-start")
    expect(first.locator("#tfa-qr")).to_be_visible()
    secret = first.locator("#tfa-secret").inner_text().strip()
    first.fill("#tfa-code", totp_code(secret))
    first.click("#tfa-confirm")
    expect(first.locator("#tfa-status")).to_have_text("2FA: on")
    codes = first.locator("#recovery-codes .rc")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text()
    mailbox.wait_for(email, "Two-factor authentication is on")

    log_out(first)

    # Log in again: now a code is required (never the one used at enrolment: the helper
    # picks a step the app has not seen).
    log_in(first, app, email, PASSWORD, totp_secret=secret)
    # A second browser, logging in with a one-time recovery code.
    second = new_context().new_page()
    log_in(second, app, email, PASSWORD, recovery_code=recovery)

    first.goto(app.url + "/security")
    rows = first.locator("#sessions-table .session-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="this device")).to_have_count(1)
    other = rows.filter(has_not_text="this device")
    other.locator(".revoke").click()
    expect(rows).to_have_count(1)

    # The revoked browser is logged out on its next page.
    second.goto(app.url + "/security")
    expect(second).to_have_url(re.compile(r".*/login/?\?next=/security$"))
    expect(second.locator("#nav-login")).to_be_visible()
    assert console.errors == []


def test_password_reset_from_the_email(app, page, mailbox, console):
    email = _new_email("reset")
    sign_up(page, app, email)
    page.goto(app.url + "/forgot-password")
    page.fill("#forgot-email", email)
    page.click("#forgot-submit")
    expect(page.locator("#forgot-message")).to_contain_text("Check your inbox")
    # An unknown address gets the very same answer.
    page.fill("#forgot-email", _new_email("nobody"))
    page.click("#forgot-submit")
    expect(page.locator("#forgot-message")).to_contain_text("Check your inbox")

    link = link_to(mailbox.wait_for(email, "Reset your BitChange password"), "/reset-password")
    page.goto(link)
    page.fill("#reset-password", "a-whole-new-passphrase")
    page.fill("#reset-confirm", "a-whole-new-passphrase")
    page.click("#reset-submit")
    expect(page.locator("#reset-done")).to_be_visible()
    notice = mailbox.wait_for(email, "Your password was changed")
    assert "reset with an emailed link" in text_of(notice)

    # The link is single use.
    page.goto(link)
    expect(page.locator("#reset-bad")).to_be_visible()
    # The old password is dead, the new one works.
    page.goto(app.url + "/login")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Incorrect email or password.")
    log_in(page, app, email, "a-whole-new-passphrase")
    assert console.errors == []


# A raw socket.io client in the page: connects to the app's event endpoint with the browser's
# own cookies and sends events the UI never offers, as an attacker's script would.
FORGE = """
async ({events}) => {
  const url = location.origin.replace(/^http/, 'ws') + '/_event/?EIO=4&transport=websocket&token='
    + crypto.randomUUID();
  const ws = new WebSocket(url);
  const replies = [];
  await new Promise((resolve, reject) => {
    ws.onerror = reject;
    ws.onmessage = (m) => {
      if (m.data === '2') { ws.send('3'); return; }
      if (m.data.startsWith('0')) { ws.send('40/_event,'); return; }
      if (m.data.startsWith('40/_event')) { resolve(); return; }
      replies.push(m.data);
    };
  });
  for (const ev of events) ws.send('42/_event,' + JSON.stringify(['event', ev]));
  const deadline = Date.now() + 15000;
  while (replies.filter(r => r.startsWith('42/_event')).length < events.length
         && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 50));
  }
  ws.close();
  return replies;
}
"""


def forge(page: Page, *events: dict) -> list[str]:
    return page.evaluate(FORGE, {"events": list(events)})


def event(handler: str, payload: dict, path: str, query: dict | None = None) -> dict:
    return {"name": handler, "payload": payload,
            "router_data": {"pathname": path, "asPath": path, "query": query or {}}}


def test_forged_events_cannot_touch_other_users(app, new_context):
    attacker, victim = _new_email("attacker"), _new_email("victim")
    pages = {}
    for name, email in (("attacker", attacker), ("victim", victim)):
        page = new_context().new_page()
        sign_up(page, app, email)
        log_in(page, app, email, PASSWORD)
        pages[name] = page
    attacker_second = new_context().new_page()
    log_in(attacker_second, app, attacker, PASSWORD)
    [victim_session] = _active_sessions(app, victim)
    attacker_sessions = _active_sessions(app, attacker)
    revoke = SecurityState.get_full_name() + ".revoke_session"

    # Positive control: the forged channel does reach the handler (the attacker can end their
    # own other session this way)...
    forge(pages["attacker"], event(revoke, {"session_id": attacker_sessions[1]}, "/security"))
    assert _active_sessions(app, attacker) == attacker_sessions[:1]
    # ...but not the victim's session.
    replies = forge(pages["attacker"],
                    event(revoke, {"session_id": victim_session}, "/security"))
    assert any("No such session." in r for r in replies)
    assert _active_sessions(app, victim) == [victim_session]
    pages["victim"].goto(app.url + "/security")
    expect(pages["victim"].locator("#sessions-table .session-row")).to_have_count(1)

    # Admin actions, sent by a trader, are refused.
    victim_id = _user_id(app, victim)
    for action in ("freeze", "end_sessions", "reset_two_factor"):
        forge(pages["attacker"], event(f"{AdminUserState.get_full_name()}.{action}", {},
                                       "/admin/user", {"id": str(victim_id)}))
    assert _active_sessions(app, victim) == [victim_session]
    pages["victim"].reload()
    expect(pages["victim"].locator("#nav-email")).to_have_text(victim)

    # Anonymous (no cookie) gets nothing either.
    anonymous = new_context().new_page()
    anonymous.goto(app.url + "/")
    forge(anonymous, event(revoke, {"session_id": victim_session}, "/security"))
    assert _active_sessions(app, victim) == [victim_session]


def test_admin_freezes_a_user_and_the_audit_log_shows_it(app, new_context):
    email = _new_email("frozen")
    user_page = new_context().new_page()
    sign_up(user_page, app, email)
    log_in(user_page, app, email, PASSWORD)

    admin = new_context().new_page()
    log_in(admin, app, "admin@demo.bitchange.local", DEMO_PASSWORD, next_path="/admin/users",
           totp_secret=DEMO_ADMIN_TOTP_SECRET)
    admin.fill("#user-search", email.split("@")[0])
    admin.click("#user-search-submit")
    expect(admin.locator("#users-table .user-row")).to_have_count(1)
    admin.locator("#users-table .user-row").get_by_role("link").click()
    expect(admin.locator("#admin-user-email")).to_have_text(email)
    expect(admin.locator(".balance-row").first).to_be_visible()
    admin.click("#admin-freeze")
    expect(admin.locator("#admin-user-state")).to_have_text("frozen")

    user_page.goto(app.url + "/security")
    expect(user_page).to_have_url(re.compile(r".*/login/?\?next=/security$"))

    admin.goto(app.url + "/admin/audit")
    admin.fill("#audit-target", email)
    admin.click("#audit-filter")
    rows = admin.locator("#audit-table .audit-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("freeze")
    expect(rows.first).to_contain_text("admin@demo.bitchange.local")
    expect(rows.first).to_contain_text("127.0.0.1")
