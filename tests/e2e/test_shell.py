"""The shell in a real browser: landing and markets show the seeded markets, the admin area is
decided on the server, and pages load without console errors."""

import re

from playwright.sync_api import expect

from bitchange.demo import DEMO_ADMIN_TOTP_SECRET, DEMO_PASSWORD
from tests.e2e.conftest import log_in

SEEDED = ["BTC-USDT", "ETH-USDT", "ETH-BTC"]


def test_landing_page_lists_seeded_markets(app, page, console):
    page.goto(app.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("exchange")
    rows = page.locator("#markets-table .market-row")
    expect(rows).to_have_count(3)
    for symbol in SEEDED:
        expect(page.locator("#markets-table")).to_contain_text(symbol)
    # No trades in ETH-BTC (no e2e test trades there): a dash, never a made-up number.
    expect(rows.filter(has_text="ETH-BTC")).to_contain_text("—")
    assert console.errors == []


def test_markets_page_shows_filters_and_links_to_trading(app, page, console):
    page.goto(app.url + "/markets")
    table = page.locator("#markets-table")
    expect(table.locator(".market-row")).to_have_count(3)
    btc = table.locator(".market-row", has_text="BTC-USDT")
    expect(btc).to_contain_text("0.01")  # tick
    expect(btc).to_contain_text("0.0001")  # lot
    expect(btc).to_contain_text("active")
    expect(btc.get_by_role("link", name="BTC-USDT")).to_have_attribute("href", "/trade/BTC-USDT")
    assert console.errors == []


def test_admin_area_refuses_anonymous_and_non_admin(app, page, console):
    page.goto(app.url + "/admin")
    expect(page).to_have_url(re.compile(r".*/login/?\?next=/admin$"))

    log_in(page, app, "alice@demo.bitchange.local", DEMO_PASSWORD)
    page.goto(app.url + "/admin")
    expect(page.locator("#admin-denied")).to_be_visible()
    expect(page.locator("#reconcile-summary")).to_have_count(0)
    expect(page.locator("#nav-admin")).to_have_count(0)
    assert console.errors == []


def test_admin_sees_reconciliation(app, page, console):
    log_in(page, app, "admin@demo.bitchange.local", DEMO_PASSWORD, next_path="/admin",
           totp_secret=DEMO_ADMIN_TOTP_SECRET)
    expect(page).to_have_url(re.compile(r".*/admin/?$"))
    expect(page.locator("#reconcile-status")).to_have_text("Balanced")
    expect(page.locator("#reconcile-summary")).to_contain_text("3 assets conserved")
    assert console.errors == []


def test_session_cookie_is_http_only_and_logout_ends_it(app, new_context):
    context = new_context()
    page = context.new_page()
    log_in(page, app, "bob@demo.bitchange.local", DEMO_PASSWORD)
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["bc_session"]["httpOnly"] is True
    assert cookies["bc_session"]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("bc_session") == -1
    token = cookies["bc_session"]["value"]

    page.click("#logout")
    expect(page.locator("#nav-login")).to_be_visible()
    # The old token is dead on the server even if a copy of it is replayed.
    replay = new_context()
    replay.add_cookies([{"name": "bc_session", "value": token, "url": app.url}])
    replay_page = replay.new_page()
    replay_page.goto(app.url + "/")
    expect(replay_page.locator("#nav-login")).to_be_visible()


def test_wrong_password_gets_a_generic_error(app, page):
    page.goto(app.url + "/login")
    page.fill("#login-email", "alice@demo.bitchange.local")
    page.fill("#login-password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Incorrect email or password.")
    page.fill("#login-email", "nobody@demo.bitchange.local")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Incorrect email or password.")


def test_unknown_route_shows_404_page(app, page):
    page.goto(app.url + "/no-such-page")
    expect(page.locator("#not-found")).to_be_visible()


def test_top_bar_has_no_dead_or_duplicate_links(app, page, console):
    log_in(page, app, "bob@demo.bitchange.local", DEMO_PASSWORD)
    bar = page.locator("#top-bar")
    hrefs = bar.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs and all(href and href != "#" for href in hrefs), hrefs
    expect(bar.get_by_text("Markets", exact=True)).to_have_count(1)
    page.click("#nav-orders")
    expect(page).to_have_url(re.compile(r".*/orders/?$"))
    expect(page.locator("#orders-tab-open")).to_be_visible()
    assert console.errors == []
