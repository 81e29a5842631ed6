"""Conditional orders on the trading screen: a stop-limit set from the form triggers and fills
when another trader's sell moves the price through it, and an OCO whose take-profit fills
cancels its stop, each shown on the first trader's screen without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_live import mark_page, not_reloaded
from tests.e2e.test_trading import ALICE, BOB, LIVE, open_market

pytestmark = pytest.mark.e2e
SYMBOL = "BTC-USDT"


def limit(page: Page, side: str, price: str, amount: str, notice: str) -> None:
    page.click("#order-kind-limit")
    page.click(f"#order-side-{side}")
    page.fill("#order-price", price)
    page.fill("#order-amount", amount)
    page.click("#place-order")
    expect(page.locator("#order-notice")).to_contain_text(notice)


def test_a_stop_limit_and_an_oco_on_the_screen(app, new_context, console) -> None:  # type: ignore[no-untyped-def]
    alice = open_market(new_context, app, ALICE, SYMBOL)
    bob = open_market(new_context, app, BOB, SYMBOL)
    # A last price of 60,000.
    limit(alice, "sell", "60000", "0.01", "placed in the book")
    limit(bob, "buy", "60000", "0.01", "Bought")

    # Alice sets a stop-limit: sell 0.1 BTC at 59,900 if the price falls to 59,950.
    alice.click("#order-side-sell")
    alice.click("#order-kind-stop_limit")
    alice.fill("#order-stop", "59950.005")
    expect(alice.locator("#order-stop-error")).to_contain_text("multiple of")
    alice.fill("#order-stop", "59950")
    alice.fill("#order-price", "59900")
    alice.fill("#order-amount", "0.1")
    expect(alice.locator("#order-preview")).to_have_text(
        "If the last price falls to 59,950.00, sell 0.1000 BTC at 59,900.00")
    alice.click("#place-order")
    expect(alice.locator("#order-notice")).to_contain_text("waiting for its trigger")
    stop_row = alice.locator(".open-order-row", has_text="stop-limit")
    expect(stop_row).to_contain_text("≤ 59,950.00")
    expect(stop_row).to_contain_text("Pending")
    expect(alice.locator("#balance-base-locked")).to_contain_text("0.1")
    mark_page(alice)

    # Bob's sell trades at 59,950 with Alice's bid; her stop triggers and fills his bid.
    limit(alice, "buy", "59950", "0.01", "placed in the book")
    limit(bob, "buy", "59900", "0.1", "placed in the book")
    limit(bob, "sell", "59950", "0.01", "Sold")
    expect(alice.locator(".open-order-row")).to_have_count(0, timeout=LIVE)
    alice.click("#tab-history")
    expect(alice.locator("#order-history")).to_contain_text("Triggered · Filled", timeout=LIVE)
    assert not_reloaded(alice)

    # An OCO: take profit at 61,000, or stop at 59,000 (limit 58,900).
    alice.click("#tab-open")
    alice.click("#order-side-sell")
    alice.click("#order-kind-oco")
    alice.fill("#order-price", "61000")
    alice.fill("#order-stop", "59000")
    alice.fill("#order-stop-limit", "58900")
    alice.fill("#order-amount", "0.05")
    expect(alice.locator("#order-preview")).to_contain_text(
        "Sell 0.0500 BTC at 61,000.00; or, if the last price falls to 59,000.00")
    alice.click("#place-order")
    expect(alice.locator("#order-notice")).to_contain_text("OCO")
    expect(alice.locator(".open-order-row")).to_have_count(2)
    # Bob takes the take-profit: the stop leg goes in the same moment.
    limit(bob, "buy", "61000", "0.05", "Bought")
    expect(alice.locator(".open-order-row")).to_have_count(0, timeout=LIVE)
    alice.click("#tab-history")
    expect(alice.locator("#order-history")).to_contain_text("the other OCO leg ran",
                                                            timeout=LIVE)
    assert not_reloaded(alice)
    assert console.errors == []


@pytest.fixture(scope="module")
def app(own_app):  # type: ignore[no-untyped-def]
    """Its orders rest in the books: in an app of its own, not the shared one."""
    return own_app
