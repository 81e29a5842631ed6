"""Staking in a real browser: two traders trade (the exchange earns a fee), an admin funds the
rewards account from the collected fees and opens a flexible product,
a user stakes, one day of accrual runs (the env-gated CLI with a controlled clock, against the
app's database), the reward shows, the user redeems."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from bitchange.config import PROJECT_ROOT
from tests.e2e.extras_helpers import BOB, earn_trading_fees, log_in_admin, log_in_trader


def test_stake_accrue_a_day_and_redeem(app, new_context, console):
    earn_trading_fees(app)  # 1 USDT of fees: rewards are funded only from collected fees
    admin = new_context().new_page()
    log_in_admin(admin, app)
    admin.goto(app.url + "/admin/staking")
    admin.select_option("#fund-asset", "USDT")
    admin.fill("#fund-amount", "1")
    admin.click("#fund-submit")
    expect(admin.locator("#staking-admin-notice")).to_contain_text("funded")
    expect(admin.locator("#rewards-pool .rewards-pool-row", has_text="USDT")).to_contain_text(
        "1.00")
    admin.select_option("#product-asset", "USDT")
    admin.fill("#product-name", "USDT Flexible")
    admin.fill("#product-apr", "10")
    admin.fill("#product-lock", "0")
    admin.fill("#product-min", "10")
    admin.fill("#product-max", "10000")
    admin.fill("#product-capacity", "100000")
    admin.click("#product-create")
    expect(admin.locator("#staking-admin-notice")).to_contain_text("Product created")
    expect(admin.locator(".staking-product-row", has_text="USDT Flexible")).to_have_count(1)

    user = new_context().new_page()
    log_in_trader(user, app, BOB)
    user.goto(app.url + "/staking")
    card = user.locator(".staking-product", has_text="USDT Flexible")
    card.locator(".stake-amount input").fill("1000")
    card.locator(".stake-submit").click()
    expect(user.locator("#staking-notice")).to_contain_text("Staked 1000 USDT")
    position = user.locator(".position-row", has_text="USDT Flexible")
    expect(position).to_contain_text("1,000.00 USDT")
    expect(position.locator(".position-reward")).to_have_text("0.00 USDT")

    # One day of accrual: the day after today, run as the daily job would once it ended.
    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    result = subprocess.run(
        [sys.executable, "-m", "bitchange", "accrue-staking", "--day", day],
        cwd=PROJECT_ROOT, env=app.env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "1 rewards paid, USDT 273972" in result.stdout

    user.reload()
    # 1,000 USDT at 10 % APR for one day, rounded down: 0.273972 USDT.
    expect(position.locator(".position-reward")).to_have_text("0.273972 USDT")
    position.locator(".position-redeem").click()
    expect(user.locator("#staking-notice")).to_contain_text("Redeemed")
    expect(position).to_contain_text("redeemed")

    admin.reload()
    row = admin.locator(".staking-product-row", has_text="USDT Flexible")
    expect(row).to_contain_text("0.273972")
    expect(admin.locator("#rewards-pool .rewards-pool-row", has_text="USDT")).to_contain_text(
        "0.726028")
    assert console.errors == []
