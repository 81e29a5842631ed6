"""The security centre: status, password, 2FA, recovery codes, sessions and devices, the
anti-phishing code (the state, `bitchange.state.security`, resolves the user on every event)."""

from __future__ import annotations

import reflex as rx

from bitchange import routes

# `when` lives with the account views; other pages still import it from here.
from bitchange.components.shell import page
from bitchange.state.security import SecurityState


def status_row(label: str, value: rx.Component) -> rx.Component:
    return rx.hstack(rx.text(label, weight="bold", width="170px"), value, align="center")


def status_card() -> rx.Component:
    S = SecurityState
    return rx.card(rx.vstack(
        rx.heading("Status", size="4", as_="h2"),
        status_row("Email", rx.hstack(
            rx.text(S.email),
            rx.cond(S.email_verified, rx.badge("verified", color_scheme="green"),
                    rx.hstack(rx.badge("not verified", color_scheme="amber",
                                       id="email-unverified"),
                              rx.button("Send a new link", size="1", variant="soft",
                                        on_click=S.resend_verification, id="resend-verify"))),
        )),
        status_row("2FA", rx.cond(S.two_factor,
                                  rx.badge("2FA: on", color_scheme="green", id="tfa-status"),
                                  rx.badge("2FA: off", color_scheme="red", id="tfa-status"))),
        rx.cond(S.two_factor, status_row("Recovery codes left", rx.text(S.recovery_left))),
        status_row("Last login", rx.text(S.last_login, id="last-login")),
        status_row("Password changed", rx.text(S.password_changed)),
        rx.foreach(S.restrictions, lambda r: rx.callout(r, icon="lock", color_scheme="amber",
                                                        class_name="restriction")),
        rx.link("Login history", href=routes.LOGIN_HISTORY, id="history-link"),
        rx.link("API keys", href=routes.API_KEYS, id="api-keys-link"),
        rx.link("Email, data export and closing the account", href=routes.ACCOUNT,
                id="account-link"),
        rx.link("Price alerts", href=routes.ALERTS, id="alerts-link"),
        spacing="3", width="100%",
    ), width="100%")


def two_factor_card() -> rx.Component:
    S = SecurityState
    enrol = rx.vstack(
        rx.text("Scan this QR code with your authenticator app, or type the secret, then "
                "enter the 6-digit code it shows.", size="2"),
        rx.image(src=S.enrol_qr, width="200px", height="200px", alt="2FA QR code",
                 id="tfa-qr", background_color="white", padding="8px"),
        rx.code(S.enrol_secret, id="tfa-secret"),
        rx.form(rx.hstack(
            rx.input(name="code", id="tfa-code", placeholder="123456",
                     auto_complete="one-time-code"),
            rx.button("Turn on", type="submit", id="tfa-confirm"),
        ), on_submit=S.confirm_two_factor, reset_on_submit=True),
        spacing="3",
    )
    disable = rx.form(rx.vstack(
        rx.text("To turn 2FA off, enter your password and a current code.", size="2"),
        rx.input(name="password", type="password", placeholder="Password",
                 id="tfa-off-password"),
        rx.input(name="code", placeholder="Code", id="tfa-off-code"),
        rx.button("Turn off 2FA", type="submit", color_scheme="red", variant="soft",
                  id="tfa-off"),
        spacing="2",
    ), on_submit=S.disable_two_factor, reset_on_submit=True)
    return rx.card(rx.vstack(
        rx.heading("Two-factor authentication", size="4", as_="h2"),
        rx.cond(S.recovery_codes.length() > 0, rx.callout(rx.vstack(
            rx.text("Your recovery codes. Each works once. Store them somewhere safe: they "
                    "will not be shown again.", weight="bold"),
            rx.grid(rx.foreach(S.recovery_codes, lambda c: rx.code(c, class_name="rc")),
                    columns="2", spacing="2", id="recovery-codes"),
            rx.button("I have saved them", size="1", on_click=S.dismiss_codes),
        ), icon="key-round", color_scheme="amber")),
        rx.cond(S.two_factor, disable, rx.cond(
            S.enrol_secret != "", enrol,
            rx.button("Set up 2FA", on_click=S.start_two_factor, id="tfa-start"))),
        spacing="3", width="100%",
    ), width="100%")


def passkeys_card() -> rx.Component:
    S = SecurityState

    def row(p) -> rx.Component:  # type: ignore[no-untyped-def]
        return rx.table.row(
            rx.table.cell(rx.form(rx.hstack(
                rx.input(name="name", default_value=p["name"], size="1", max_length=64,
                         class_name="passkey-name"),
                rx.input(name="id", type="hidden", value=p["id"]),
                rx.button("Rename", type="submit", size="1", variant="soft",
                          class_name="passkey-rename"),
            ), on_submit=S.rename_passkey)),
            rx.table.cell(p["added"]),
            rx.table.cell(p["used"], class_name="passkey-used"),
            rx.table.cell(rx.button("Remove", size="1", color_scheme="red", variant="soft",
                                    on_click=S.remove_passkey(p["id"]),
                                    class_name="passkey-remove")),
            class_name="passkey-row",
        )

    add = rx.form(rx.vstack(
        rx.text("Add a passkey: your device unlocks it with its PIN, fingerprint or face. "
                "Confirm with your password and a current 2FA code.", size="2"),
        rx.input(name="name", placeholder="Name, e.g. Laptop", id="passkey-new-name",
                 max_length=64),
        rx.input(name="password", type="password", placeholder="Password",
                 id="passkey-password", auto_complete="current-password"),
        rx.input(name="code", placeholder="2FA code", id="passkey-code",
                 auto_complete="one-time-code"),
        rx.button("Add a passkey", type="submit", id="passkey-add"),
        spacing="2",
    ), on_submit=S.begin_passkey, reset_on_submit=True)
    return rx.card(rx.vstack(
        rx.heading("Passkeys", size="4", as_="h2"),
        rx.cond(S.passkeys.length() > 0, rx.vstack(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ["Name", "Added", "Last used", ""]])),
                rx.table.body(rx.foreach(S.passkeys, row)),
                width="100%", size="1", id="passkeys-table",
            ),
            rx.hstack(
                rx.switch(checked=S.passwordless, on_change=S.set_passwordless,
                          id="passwordless-switch"),
                rx.text("Sign in with a passkey alone (no password)", size="2"),
                align="center",
            ),
            width="100%",
        ), rx.text("No passkeys yet.", size="2", color_scheme="gray", id="passkeys-none")),
        rx.cond(S.two_factor, add,
                rx.text("Turn on 2FA first to add passkeys.", size="2", color_scheme="gray")),
        spacing="3", width="100%",
    ), width="100%")


def password_card() -> rx.Component:
    return rx.card(rx.form(rx.vstack(
        rx.heading("Change password", size="4", as_="h2"),
        rx.input(name="current", type="password", placeholder="Current password",
                 id="pw-current", auto_complete="current-password", width="100%"),
        rx.input(name="new", type="password", placeholder="New password", id="pw-new",
                 auto_complete="new-password", width="100%"),
        rx.input(name="confirm", type="password", placeholder="Repeat new password",
                 id="pw-confirm", auto_complete="new-password", width="100%"),
        rx.text("Changing it ends every session, this one included.", size="1",
                color_scheme="gray"),
        rx.button("Change password", type="submit", id="pw-submit"),
        spacing="2", width="100%",
    ), on_submit=SecurityState.change_password, reset_on_submit=True), width="100%")


def anti_phishing_card() -> rx.Component:
    return rx.card(rx.form(rx.vstack(
        rx.heading("Anti-phishing code", size="4", as_="h2"),
        rx.text("A phrase of your choice, printed in every email we send you.", size="2"),
        rx.cond(SecurityState.anti_phishing != "",
                rx.text("Current: ", rx.code(SecurityState.anti_phishing, id="ap-current"))),
        rx.hstack(rx.input(name="code", placeholder="e.g. purple otter", id="ap-code"),
                  rx.button("Save", type="submit", id="ap-save")),
        spacing="2", width="100%",
    ), on_submit=SecurityState.set_anti_phishing, reset_on_submit=True), width="100%")


def sessions_card() -> rx.Component:
    def row(s) -> rx.Component:  # type: ignore[no-untyped-def]
        return rx.table.row(
            rx.table.cell(rx.hstack(rx.text(s["device"]), rx.cond(
                s["current"] == "yes", rx.badge("this device", color_scheme="green")))),
            rx.table.cell(s["ip"]),
            rx.table.cell(s["first"]),
            rx.table.cell(s["last"]),
            rx.table.cell(rx.cond(s["current"] == "yes", rx.text(""), rx.button(
                "Revoke", size="1", color_scheme="red", variant="soft",
                on_click=SecurityState.revoke_session(s["id"]), class_name="revoke"))),
            class_name="session-row",
        )

    return rx.card(rx.vstack(
        rx.hstack(
            rx.heading("Sessions and devices", size="4", as_="h2"),
            rx.button("Log out all other sessions", size="1", variant="soft",
                      on_click=SecurityState.revoke_other_sessions, id="revoke-others"),
            justify="between", width="100%",
        ),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ["Device", "IP", "First seen", "Last seen", ""]])),
            rx.table.body(rx.foreach(SecurityState.sessions, row)),
            width="100%", size="1", id="sessions-table",
        ),
        spacing="3", width="100%",
    ), width="100%")


def security_page() -> rx.Component:
    S = SecurityState
    return page(rx.cond(
        S.access == "ok",
        rx.vstack(
            rx.heading("Security centre", size="7"),
            rx.cond(S.notice != "", rx.callout(S.notice, icon="info", id="security-notice")),
            rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                              id="security-error")),
            rx.grid(status_card(), two_factor_card(), passkeys_card(), password_card(),
                    anti_phishing_card(), columns="2", spacing="4", width="100%"),
            sessions_card(),
            spacing="4", width="100%",
        ),
        rx.text("Loading…", color_scheme="gray"),
    ))
