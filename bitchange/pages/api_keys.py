"""The API keys page `/security/api-keys`: create (HMAC or Ed25519, scopes, IP allowlist,
expiry, a fresh 2FA code), list with last use, revoke one or all. Layout only; the state is
`bitchange.state.api_keys.ApiKeysState`."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.lists import messages, table
from bitchange.components.passkeys import passkey_button
from bitchange.components.shell import page
from bitchange.pages.trade import MONO
from bitchange.state.api_keys import ApiKeysState as S


def create_form() -> rx.Component:
    return rx.card(rx.form(rx.vstack(
        rx.heading("New API key", size="3"),
        rx.input(name="label", placeholder="Label, e.g. market maker", id="key-label",
                 max_length=64),
        rx.el.select(rx.el.option("HMAC-SHA256 (we generate the secret)", value="hmac"),
                     rx.el.option("Ed25519 (paste your public key)", value="ed25519"),
                     name="kind", id="key-kind"),
        rx.text_area(name="public_key", placeholder="Ed25519 public key (PEM), for Ed25519 keys",
                     id="key-public", rows="3", width="100%"),
        rx.hstack(
            rx.checkbox("Read", name="scope_read", default_checked=True, id="key-scope-read"),
            rx.checkbox("Trade", name="scope_trade", id="key-scope-trade"),
            rx.checkbox("Withdraw (needs an IP allowlist)", name="scope_withdraw",
                        id="key-scope-withdraw"),
            spacing="4", wrap="wrap",
        ),
        rx.input(name="allowlist", placeholder="IP allowlist: addresses or CIDR ranges, "
                                               "IPv4 or IPv6 (empty: any IP)",
                 id="key-allowlist", width="100%"),
        rx.el.select(rx.el.option("Never expires", value=""),
                     *[rx.el.option(f"Expires in {d} days", value=str(d))
                       for d in (7, 30, 90, 365)], name="expiry_days", id="key-expiry"),
        rx.hstack(
            rx.input(name="code", placeholder="2FA code", id="key-code",
                     auto_complete="one-time-code", max_length=32),
            passkey_button(S, "key-passkey"),
            spacing="2",
        ),
        rx.button("Create key", type="submit", id="key-create"),
        spacing="3", width="100%",
    ), on_submit=S.create, reset_on_submit=True), width="100%")


def created() -> rx.Component:
    return rx.cond(S.new_key != "", rx.callout(rx.vstack(
        rx.text("API key: ", rx.code(S.new_key, id="new-api-key")),
        rx.cond(S.new_secret != "", rx.text("Secret (shown only now): ",
                                            rx.code(S.new_secret, id="new-api-secret"))),
    ), icon="key", color_scheme="blue", id="key-created"))


def key_list() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading("Your keys", size="3"),
                  rx.button("Revoke all", size="1", color_scheme="red", variant="soft",
                            on_click=S.revoke_all, id="key-revoke-all"),
                  justify="between", width="100%"),
        table(["Label", "Kind", "Key", "Scopes", "Allowlist", "Created", "Expires", "Last used",
               "Status", ""], S.keys,
              lambda k: [k["label"], k["kind"], rx.text(k["api_key"], style=MONO),
                         k["scopes"], k["allowlist"], k["created"], k["expires"],
                         k["last_used"], k["status"],
                         rx.cond(k["status"] == "active",
                                 rx.button("Revoke", size="1", variant="ghost",
                                           color_scheme="red", class_name="key-revoke",
                                           on_click=S.revoke(k["id"])))],
              "key-row", "key-table",
              empty=("No API keys yet.", "Create one above to let a program trade for you.")),
        width="100%",
    )


def api_keys_page() -> rx.Component:
    return page(rx.cond(
        S.access == "ok",
        rx.vstack(
            rx.heading("API keys", size="6"),
            rx.text("Programs (bots, market makers, trackers) use the Binance-compatible API "
                    "with these keys. See the ", rx.link("API documentation", href=routes.API_DOCS,
                                                         id="api-docs-link", is_external=True),
                    ".", size="2"),
            rx.link("Back to the security centre", href=routes.SECURITY, size="2"),
            messages(S.notice, S.error), created(), create_form(), key_list(),
            spacing="4", width="100%",
        ),
        rx.cond(S.access == "denied",
                rx.text("Log in to manage your API keys.", id="keys-denied")),
    ), max_width="1100px")
