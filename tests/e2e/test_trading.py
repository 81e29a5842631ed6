"""The trading screen in a real browser: two traders in two browser contexts see each other's
orders and trades, their balances and the book change live (no reload); the chart draws; bad
orders change nothing; visitors and revoked sessions cannot trade; an admin halt shows live.

Balances are read from the screen before acting and the expectations are computed from them,
so the tests do not depend on what other tests in the session did with the demo traders.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from bitchange.demo import DEMO_ADMIN_TOTP_SECRET, DEMO_PASSWORD
from tests.e2e.conftest import log_in

ALICE = "alice@demo.bitchange.local"
BOB = "bob@demo.bitchange.local"
LIVE = 3_000  # ms: live updates arrive well within this, without any reload


def money(text_: str) -> Decimal:
    return Decimal(text_.replace(",", "").split()[0])


def shown(value: Decimal, decimals: int) -> str:
    """An asset amount as the screen shows it: its display decimals, more when it has them."""
    exponent = value.normalize().as_tuple().exponent
    return f"{value:,.{max(decimals, -exponent if isinstance(exponent, int) else 0)}f}"


def open_market(new_context, app, email: str | None, symbol: str) -> Page:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    if email:
        log_in(page, app, email, DEMO_PASSWORD)
    page.goto(f"{app.url}/trade/{symbol}")
    expect(page.locator("#market-symbol")).to_have_text(symbol)
    if email:
        expect(page.locator("#place-order")).to_be_visible()
        expect(page.locator("#balance-base-available")).not_to_have_text("—")
    return page


def balances(page: Page) -> dict[str, Decimal]:
    return {key: money(page.locator(f"#balance-{key}").inner_text())
            for key in ("base-available", "base-locked", "quote-available", "quote-locked")}


def count_orders(app, symbol: str) -> int:  # type: ignore[no-untyped-def]
    engine = create_engine(app.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM orders WHERE symbol = :s"),
                                {"s": symbol}).scalar_one()
    finally:
        engine.dispose()


def trade_journey(app, new_context, watchers: Sequence[Page] = ()) -> None:  # type: ignore[no-untyped-def]
    """Alice rests a sell, Bob buys part of it, Alice cancels the rest: both traders' screens
    and every watching visitor's screen follow each step live."""
    alice = open_market(new_context, app, ALICE, "BTC-USDT")
    bob = open_market(new_context, app, BOB, "BTC-USDT")
    a0, b0 = balances(alice), balances(bob)
    expect(bob.locator("#book-empty")).to_contain_text("Place a limit order")
    expect(bob.locator("#book-sum-label")).to_have_text("Sum (BTC)")  # a running sum of BTC
    expect(bob.locator("#open-orders-empty")).to_be_visible()

    # Alice rests a limit sell; the form shows the total and the fee before she sends it.
    alice.click("#order-side-sell")
    alice.fill("#order-price", "60000")
    alice.fill("#order-amount", "0.5")
    expect(alice.locator("#order-total")).to_have_value("30000.00")
    expect(alice.locator("#order-fee")).to_have_text("≤ 60.00 USDT")
    alice.click("#place-order")
    expect(alice.locator("#order-notice")).to_contain_text("placed in the book")

    # Bob's book shows it live; a click on the level fills his price.
    ask = bob.locator("#book-asks .book-row")
    expect(ask).to_have_count(1, timeout=LIVE)
    expect(ask.first).to_contain_text("60,000.00")
    expect(ask.first).to_contain_text("0.5000")
    ask.first.click()
    expect(bob.locator("#order-price")).to_have_value("60000.00")
    bob.fill("#order-amount", "0.2")
    bob.click("#place-order")
    expect(bob.locator("#order-notice")).to_have_text("Bought 0.2000 BTC")

    for page in (alice, bob, *watchers):
        tape = page.locator("#tape .tape-row")
        expect(tape).to_have_count(1, timeout=LIVE)
        expect(tape.first).to_contain_text("60,000.00")
        expect(tape.first).to_contain_text("0.2000")
        expect(page.locator("#book-asks .book-row").first).to_contain_text("0.3000",
                                                                           timeout=LIVE)
        expect(page.locator("#last-price")).to_have_text("60,000.00", timeout=LIVE)

    # Balances: the maker pays 0.1% in USDT, the taker 0.2% in BTC.
    expect(alice.locator("#balance-base-available")).to_have_text(
        shown(a0["base-available"] - Decimal("0.5"), 8), timeout=LIVE)
    expect(alice.locator("#balance-base-locked")).to_have_text(
        shown(a0["base-locked"] + Decimal("0.3"), 8), timeout=LIVE)
    expect(alice.locator("#balance-quote-available")).to_have_text(
        shown(a0["quote-available"] + Decimal("12000") - Decimal("12"), 2), timeout=LIVE)
    expect(bob.locator("#balance-base-available")).to_have_text(
        shown(b0["base-available"] + Decimal("0.2") - Decimal("0.0004"), 8), timeout=LIVE)
    expect(bob.locator("#balance-quote-available")).to_have_text(
        shown(b0["quote-available"] - Decimal("12000"), 2), timeout=LIVE)

    # Alice's open order shows the partial fill live; Bob's trade is in his trades.
    order = alice.locator("#open-orders .open-order-row")
    expect(order).to_have_count(1, timeout=LIVE)
    expect(order.first).to_contain_text("Partly filled")
    bob.click("#tab-trades")
    expect(bob.locator("#my-trades .my-trade-row").first).to_contain_text("taker")

    # Alice cancels the rest: Bob's book empties live, her BTC is released.
    order.first.locator(".cancel-order").click()
    expect(alice.locator("#order-notice")).to_contain_text("cancelled")
    for page in (bob, *watchers):
        expect(page.locator("#book-empty")).to_be_visible(timeout=LIVE)
    expect(alice.locator("#balance-base-locked")).to_have_text(shown(a0["base-locked"], 8))


def test_a_trade_shows_on_both_screens_without_reload(app, new_context, console):
    trade_journey(app, new_context)
    assert console.errors == []


def test_the_chart_draws_and_switches_interval(app, new_context, console):
    page = open_market(new_context, app, None, "BTC-USDT")
    chart = page.locator("#price-chart")
    expect(chart.locator("canvas").first).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["height"] > 200 and box["width"] > 300
    page.click("#interval-5m")
    expect(page.locator("#interval-5m")).to_have_class(re.compile("rt-variant-solid"))
    expect(chart.locator("canvas").first).to_be_visible()
    assert console.errors == []


def test_an_invalid_order_shows_the_error_and_changes_nothing(app, new_context, console):
    bob = open_market(new_context, app, BOB, "ETH-USDT")
    before, orders = balances(bob), count_orders(app, "ETH-USDT")

    bob.fill("#order-price", "2000.0000001")
    expect(bob.locator("#order-price-error")).to_have_text(
        "Price can have at most 6 decimal places")
    bob.fill("#order-amount", "1")
    bob.click("#place-order")
    # Said once, beside the price: the form message does not repeat it.
    expect(bob.locator("#order-price-error")).to_have_text(
        "Price can have at most 6 decimal places")
    expect(bob.locator("#order-error")).to_have_count(0)

    bob.fill("#order-price", "2000")
    bob.fill("#order-amount", "1000")
    bob.click("#place-order")
    expect(bob.locator("#order-error")).to_contain_text("Insufficient USDT")

    bob.fill("#order-amount", "0.001")  # below the 10 USDT minimum total: said while typing
    expect(bob.locator("#order-total-error")).to_have_text(
        "Order total must be at least 10.00 USDT")
    bob.fill("#order-amount", "0.00001")
    expect(bob.locator("#order-amount-error")).to_have_text(
        "Amount must be a multiple of 0.0001 ETH")
    bob.fill("#order-amount", "0.001")
    bob.click("#place-order")
    expect(bob.locator("#order-total-error")).to_have_text(
        "Order total must be at least 10.00 USDT")
    expect(bob.locator("#order-error")).to_have_count(0)

    assert balances(bob) == before
    assert count_orders(app, "ETH-USDT") == orders
    expect(bob.locator("#open-orders .open-order-row")).to_have_count(0)
    assert console.errors == []


def test_a_visitor_sees_the_market_but_cannot_trade(app, new_context, console):
    page = open_market(new_context, app, None, "BTC-USDT")
    expect(page.locator("#tape .tape-row").first).to_be_visible()  # the earlier trade
    expect(page.locator("#place-order")).to_have_count(0)
    expect(page.locator("#balances")).to_have_count(0)
    login = page.locator("#login-to-trade")
    expect(login).to_be_visible()
    expect(login).to_have_attribute("href", "/login?next=/trade/BTC-USDT")
    # The markets list shows the last price, 24h change and volume from the ticker.
    page.goto(app.url + "/markets")
    btc = page.locator("#markets-table .market-row", has_text="BTC-USDT")
    expect(btc).to_contain_text("60,000.00")
    expect(btc).to_contain_text("+0.00%")
    expect(btc).to_contain_text("0.2000 BTC")
    assert console.errors == []


def test_the_handler_refuses_a_session_that_ended(app, new_context):
    bob = open_market(new_context, app, BOB, "BTC-USDT")
    orders = count_orders(app, "BTC-USDT")
    # The session ends elsewhere (logout in another tab); this tab still shows the form.
    other_tab = bob.context.new_page()
    other_tab.goto(app.url + "/markets")
    other_tab.click("#logout")
    expect(other_tab.locator("#nav-login")).to_be_visible()
    bob.fill("#order-price", "50000")
    bob.fill("#order-amount", "0.01")
    bob.click("#place-order")
    expect(bob.locator("#order-error")).to_have_text("Log in to trade")
    expect(bob.locator("#login-to-trade")).to_be_visible()
    assert count_orders(app, "BTC-USDT") == orders


def test_an_admin_halt_shows_live_and_refuses_orders(app, new_context):
    trader = open_market(new_context, app, ALICE, "ETH-BTC")
    expect(trader.locator("#market-status")).to_have_text("active")

    admin = new_context().new_page()
    log_in(admin, app, "admin@demo.bitchange.local", DEMO_PASSWORD, next_path="/admin",
           totp_secret=DEMO_ADMIN_TOTP_SECRET)
    row = admin.locator("#admin-markets .admin-market-row", has_text="ETH-BTC")
    row.locator(".admin-market-halt").click()
    expect(row.locator(".admin-market-status")).to_have_text("halted")

    expect(trader.locator("#market-status")).to_have_text("halted", timeout=LIVE)
    expect(trader.locator("#market-halted")).to_be_visible()
    trader.fill("#order-price", "0.05")
    trader.fill("#order-amount", "1")
    trader.click("#place-order")
    expect(trader.locator("#order-error")).to_have_text(
        "ETH-BTC is halted: new orders are not accepted")

    row.locator(".admin-market-resume").click()
    expect(trader.locator("#market-status")).to_have_text("active", timeout=LIVE)
    admin.goto(app.url + "/admin/audit")
    expect(admin.locator("#audit-table")).to_contain_text("market_resume")
    expect(admin.locator("#audit-table")).to_contain_text("market_halt")


def test_the_orders_page_lists_an_order_from_the_trading_screen_and_cancels_it(
        app, new_context, console):  # type: ignore[no-untyped-def]
    bob = open_market(new_context, app, BOB, "ETH-USDT")
    bob.fill("#order-price", "1000.5")  # far below the market: it rests
    bob.fill("#order-amount", "0.01")
    bob.click("#place-order")
    expect(bob.locator("#order-notice")).to_contain_text("placed in the book")
    order_id = re.search(r"#(\d+)", bob.locator("#order-notice").inner_text()).group(1)  # type: ignore[union-attr]

    bob.click("#nav-orders")
    expect(bob).to_have_url(re.compile(r".*/orders/?$"))
    row = bob.locator("#orders-open .orders-open-row", has_text="1,000.50")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("ETH-USDT")
    expect(row).to_contain_text("0.0100")
    # Filtering on another market hides it; on its own market it is back.
    bob.select_option("#orders-market", "BTC-USDT")
    bob.click("#orders-filter")
    expect(row).to_have_count(0)
    bob.select_option("#orders-market", "ETH-USDT")
    bob.click("#orders-filter")
    expect(row).to_have_count(1)

    row.locator(".orders-cancel").click()
    expect(bob.locator(".wallet-notice")).to_have_text(f"Order #{order_id} cancelled")
    expect(row).to_have_count(0)
    bob.click("#orders-tab-history")
    expect(bob.locator("#orders-history .orders-history-row", has_text="1,000.50")
           ).to_contain_text("Cancelled")
    with bob.expect_download() as download:
        bob.click("#orders-csv")
    csv_text = Path(download.value.path()).read_text()
    assert f"\n{order_id}," in csv_text and ",ETH-USDT,BUY,limit,GTC,1000.500000," in csv_text

    # The trading screen agrees: nothing of Bob's is left open in the market.
    bob.goto(f"{app.url}/trade/ETH-USDT")
    expect(bob.locator("#open-orders .open-order-row", has_text="1,000.50")).to_have_count(0)
    assert console.errors == []
