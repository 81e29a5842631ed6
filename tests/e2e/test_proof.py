"""Proof of liabilities in a real browser: an admin publishes a snapshot with the admin button
and attests a reserve address (a wrong signature is refused first); a user opens /proof,
verifies their balance in the page (SubtleCrypto), downloads the proof, and the standalone
verifier accepts the file."""

from __future__ import annotations

import json
import subprocess
import sys

from bitcoinlib.keys import HDKey
from playwright.sync_api import expect

from bitchange.config import PROJECT_ROOT
from tests.e2e.extras_helpers import ALICE, log_in_admin, log_in_trader

VERIFIER = PROJECT_ROOT / "tools" / "verify_liabilities.py"


def test_publish_attest_verify_in_page_and_offline(app, new_context, console, tmp_path):
    admin = new_context().new_page()
    log_in_admin(admin, app)
    admin.goto(app.url + "/admin/proof")
    admin.click("#proof-take-snapshot")
    expect(admin.locator(".wallet-notice")).to_contain_text("Published snapshot")
    row = admin.locator(".admin-proof-row").first
    snapshot_id = row.locator("td").first.inner_text().strip()
    root = row.locator("td").nth(3).inner_text().strip()
    assert len(root) == 64

    key = HDKey(witness_type="segwit")
    message = f"BitChange holds this address at snapshot root {root}"
    signature = key.sign_message(message).as_base64()
    other = HDKey(witness_type="segwit").sign_message(message).as_base64()
    admin.fill("#reserve-snapshot", snapshot_id)
    admin.select_option("#reserve-asset", "BTC")
    admin.fill("#reserve-balance", "12.5")
    admin.fill("#reserve-address", key.address())
    admin.fill("#reserve-message", message)
    admin.fill("#reserve-signature", other)
    admin.click("#reserve-submit")
    expect(admin.locator(".wallet-error")).to_contain_text("control is not proven")
    admin.fill("#reserve-signature", signature)
    admin.click("#reserve-submit")
    expect(admin.locator(".wallet-notice")).to_contain_text("Signature verified")

    user = new_context().new_page()
    log_in_trader(user, app, ALICE)
    user.goto(app.url + "/proof")
    expect(user.locator(".proof-snapshot-row").first).to_contain_text(root)
    expect(user.locator("#proof-root")).to_have_text(root)
    expect(user.locator(".proof-asset-row", has_text="BTC")).to_contain_text("12.50000000")
    expect(user.locator(".proof-reserve-row")).to_contain_text(key.address())
    expect(user.locator(".proof-my-balance").first).to_be_visible()
    user.click("#proof-verify")
    check = user.locator("#proof-check")
    expect(check).to_contain_text("Validated ")
    expect(check).to_contain_text(f"under root {root}")

    with user.expect_download() as download:
        user.click("#proof-download")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"bitchange-proof-{snapshot_id}.json"
    assert json.loads(saved.read_text())["snapshot"]["root"] == root
    verified = subprocess.run([sys.executable, "-I", str(VERIFIER), str(saved), "--root", root],
                              capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("Validated ")
    assert f"under root {root}" in verified.stdout
    assert console.errors == []
