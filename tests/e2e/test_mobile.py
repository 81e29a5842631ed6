"""Every page on a phone (390 x 844): nothing wider than the screen makes the page scroll
sideways (wide tables scroll inside their card), and the top bar's menu opens and navigates.

The pages are visited with data in them (an open order, a trade, a ticket), signed in as the
role each page is for; the list of pages is checked against the app's routes, so a new page
cannot skip this test.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from bitchange.config import PROJECT_ROOT
from tests.e2e.extras_helpers import ALICE, BOB, earn_trading_fees, log_in_admin, log_in_trader

PHONE = {"width": 390, "height": 844}

# A resting order of Alice's (far from the market, so it never trades) and a ticket of hers.
_SEED = """
import sys
from bitchange import db
from bitchange.accounts.users import get_user_by_email
from bitchange.support.service import open_ticket
from bitchange.trading.service import OrderRequest, place_order

with db.read() as conn:
    alice = get_user_by_email(conn, sys.argv[1]).id
place_order(alice, "ETH-USDT", OrderRequest(side="SELL", kind="limit", price=900_000 * 10**6,
                                            quantity=1_000_000))
with db.write() as conn:
    ticket = open_ticket(conn, alice, subject="My phone shows the whole page",
                         category="other", body="A long sentence to wrap on a small screen.")
print(alice, ticket)
"""

_CANCEL = """
import sys
from bitchange import db
from bitchange.accounts.users import get_user_by_email
from bitchange.trading.service import cancel_all

with db.read() as conn:
    alice = get_user_by_email(conn, sys.argv[1]).id
print(cancel_all(alice, "ETH-USDT"))
"""

# Elements that reach past the screen's edges and are not inside a box that scrolls (or
# clips) them there: each of them widens the page.
_ESCAPING = """() => {
  const width = window.innerWidth;
  const inside = (r) => r.left >= -1 && r.right <= width + 1;
  const contained = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const clips = getComputedStyle(p).overflowX !== "visible";
      if (clips && inside(p.getBoundingClientRect())) return true;
    }
    return false;
  };
  const escaping = new Set();
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if ((r.width === 0 && r.height === 0) || inside(r) || contained(el)) continue;
    if (getComputedStyle(el).position !== "fixed") escaping.add(el);
  }
  // Name the outermost ones: the boxes that push past the edge, not everything inside them.
  const out = [...escaping].filter((el) => !escaping.has(el.parentElement)).map((el) => {
    const r = el.getBoundingClientRect();
    const text = (el.innerText || "").trim().slice(0, 40).replace(/\\s+/g, " ");
    return `<${el.tagName.toLowerCase()} id="${el.id}"> ${Math.round(r.left)}..`
           + `${Math.round(r.right)} px: ${text}`;
  });
  return {page: document.documentElement.scrollWidth, screen: width, escaping: out};
}"""


def python(app, script: str, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = subprocess.run([sys.executable, "-c", script, *args], cwd=PROJECT_ROOT,
                            env=app.env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def overflow(page: Page) -> list[str]:
    """What makes the page wider than the screen ([] when it fits)."""
    found = page.evaluate(_ESCAPING)
    problems = found["escaping"][:8]
    if found["page"] > found["screen"]:
        problems.insert(0, f"page is {found['page']} px wide on a {found['screen']} px screen")
    return problems


def anonymous_pages() -> dict[str, tuple[str, str]]:
    """route -> (path to visit, what shows once the page has loaded)."""
    return {
        "index": ("/", "#markets-table"),
        "markets": ("/markets", "#markets-table"),
        "login": ("/login", "#login-email"),
        "signup": ("/signup", "#signup-email"),
        "verify-email": ("/verify-email?token=not-a-token", "#verify-bad"),
        "forgot-password": ("/forgot-password", "#forgot-email"),
        "reset-password": ("/reset-password?token=not-a-token", "#reset-bad"),
        "not-me": ("/not-me?token=not-a-token", "#not-me-bad"),
        "confirm-email-change": ("/confirm-email-change?token=not-a-token", "#email-change-bad"),
        "proof": ("/proof", "#proof-login"),
        "404": ("/no-such-page", "#not-found"),
    }


def trader_pages(ticket: str) -> dict[str, tuple[str, str]]:
    return {
        "trade/[symbol]": ("/trade/ETH-USDT", ".open-order-row"),
        "orders": ("/orders", ".orders-open-row"),
        "wallet": ("/wallet", "#wallet-total-usdt"),
        "wallet/deposit": ("/wallet/deposit?asset=BTC", "#deposit-address"),
        "wallet/withdraw": ("/wallet/withdraw?asset=USDT", "#withdraw-amount"),
        "wallet/address/confirm": ("/wallet/address/confirm?token=x", "#address-confirm-bad"),
        "wallet/withdraw/confirm": ("/wallet/withdraw/confirm?token=x", "#withdraw-confirm-bad"),
        "wallet/transfer": ("/wallet/transfer", "#transfer-email"),
        "wallet/history": ("/wallet/history", ".history-row"),
        "security": ("/security", "#tfa-status"),
        "security/history": ("/security/history", "#history-table"),
        "security/api-keys": ("/security/api-keys", "#key-table"),
        "verification": ("/verification", "#kyc-level"),
        "staking": ("/staking", "#staking-positions"),
        "support": ("/support", "#tickets-table"),
        "support/ticket": (f"/support/ticket?id={ticket}", "#ticket-title"),
        "promos": ("/promos", "#promo-code"),
        "security/account": ("/security/account", "#account-email"),
        "alerts": ("/alerts", "#alert-price"),
    }


def admin_pages(ticket: str, user_id: str) -> dict[str, tuple[str, str]]:
    return {
        "admin": ("/admin", "#reconcile-status"),
        "admin/users": ("/admin/users", "#users-table"),
        "admin/user": (f"/admin/user?id={user_id}", "#admin-user-email"),
        "admin/audit": ("/admin/audit", "#audit-table"),
        "admin/outbox": ("/admin/outbox", "text=The latest 100 emails"),
        "admin/deposits": ("/admin/deposits", "#deposit-record"),
        "admin/withdrawals": ("/admin/withdrawals", "text=Pause switches are on the dashboard"),
        "admin/kyc": ("/admin/kyc", "#kyc-queue"),
        "admin/staking": ("/admin/staking", "#admin-staking-products"),
        "admin/support": ("/admin/support", "#support-queue .queue-row"),
        "admin/support/ticket": (f"/admin/support/ticket?id={ticket}", "#staff-ticket-title"),
        "admin/promos": ("/admin/promos", "#promo-codes"),
        "admin/rate-limits": ("/admin/rate-limits", "#rate-limits-table"),
        "admin/proof": ("/admin/proof", "#reserve-submit"),
    }


@pytest.fixture
def seeded(app):  # type: ignore[no-untyped-def]
    earn_trading_fees(app)  # a trade of Alice's, for her orders, trades and history
    user_id, ticket = python(app, _SEED, ALICE).split()
    yield user_id, ticket
    python(app, _CANCEL, ALICE)


def phone(new_context, app, who: str = "") -> Page:  # type: ignore[no-untyped-def]
    """A page signed in as `who` ("" anonymous, "admin", or a trader's email), then narrowed
    to a phone's width (the login itself is not what is tested here)."""
    page = new_context().new_page()
    if who == "admin":
        log_in_admin(page, app)
    elif who:
        log_in_trader(page, app, who)
    page.set_viewport_size(PHONE)
    return page


def test_every_page_fits_a_phone(app, new_context, seeded, console):  # type: ignore[no-untyped-def]
    from bitchange.bitchange import app as reflex_app

    user_id, ticket = seeded
    visits = {"": anonymous_pages(), ALICE: trader_pages(ticket),
              "admin": admin_pages(ticket, user_id)}
    covered = {route for pages in visits.values() for route in pages}
    assert covered == set(reflex_app._unevaluated_pages), "every page is visited"

    problems: dict[str, list[str]] = {}
    for who, pages in visits.items():
        page = phone(new_context, app, who)
        for path, loaded in pages.values():
            page.goto(app.url + path)
            expect(page.locator(loaded).first).to_be_attached()
            if found := overflow(page):
                problems[f"{who or 'anonymous'} {path}"] = found
    assert problems == {}, "\n".join(f"{where}: {found}" for where, found in problems.items())
    # The one error expected: the 404 page's own status.
    assert [e for e in console.errors if not e.endswith("/no-such-page")] == []


def test_the_trading_screen_on_a_phone_puts_the_form_first_and_tabs_the_rest(
        app, new_context, console):  # type: ignore[no-untyped-def]
    page = phone(new_context, app, BOB)
    page.goto(app.url + "/trade/BTC-USDT")
    form, chart = page.locator("#order-form"), page.locator("#price-chart")
    expect(page.locator("#place-order")).to_be_visible()
    assert form.bounding_box()["y"] < chart.bounding_box()["y"]  # type: ignore[index]
    expect(chart).to_be_visible()
    expect(page.locator("#book-asks")).to_be_hidden()
    page.click("#panel-book")
    expect(page.locator("#book-asks")).to_be_visible()
    expect(chart).to_be_hidden()
    page.click("#panel-trades")
    expect(page.get_by_text("Recent trades")).to_be_visible()
    expect(page.locator("#book-asks")).to_be_hidden()
    assert overflow(page) == []

    # A desktop keeps the three columns: chart, book and trades side by side, tabs hidden.
    page.set_viewport_size({"width": 1300, "height": 900})
    expect(chart).to_be_visible()
    expect(page.locator("#book-asks")).to_be_visible()
    expect(page.locator("#panel-book")).to_be_hidden()
    assert console.errors == []


def test_the_menu_opens_and_navigates_on_a_phone(app, new_context, console):  # type: ignore[no-untyped-def]
    visitor = phone(new_context, app)
    visitor.goto(app.url + "/")
    expect(visitor.locator("#nav-login")).to_be_hidden()  # folded into the menu
    visitor.click("#nav-menu")
    visitor.click("#menu-markets")
    expect(visitor).to_have_url(re.compile(r".*/markets/?$"))
    expect(visitor.locator("#markets-table")).to_be_visible()

    trader = phone(new_context, app, BOB)
    trader.goto(app.url + "/")
    expect(trader.locator("#nav-wallet")).to_be_hidden()
    trader.click("#nav-menu")
    expect(trader.locator("#menu-email")).to_have_text(BOB)
    trader.click("#menu-orders")
    expect(trader).to_have_url(re.compile(r".*/orders/?$"))
    expect(trader.locator("#orders-tab-open")).to_be_visible()
    trader.click("#nav-menu")
    trader.click("#menu-wallet")
    expect(trader.locator("#wallet-total-usdt")).to_be_visible()
    assert overflow(trader) == []
    assert console.errors == []
