"""The security centre: status, password, 2FA, recovery codes, sessions and devices, the
anti-phishing code. Every handler resolves the user from the session cookie."""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import security, totp
from bitchange.accounts.sessions import (
    CurrentUser,
    list_sessions,
    revoke_all_sessions,
    revoke_user_session,
)
from bitchange.accounts.users import AccountError
from bitchange.components.shell import page
from bitchange.inputs import InputError, parse_id
from bitchange.state.auth import client_ip, current_user, navigate
from bitchange.state.events import event


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


class SecurityState(rx.State):
    access: str = "unknown"
    email: str = ""
    email_verified: bool = False
    two_factor: bool = False
    recovery_left: int = 0
    anti_phishing: str = ""
    password_changed: str = ""
    last_login: str = ""
    restrictions: list[str] = []
    sessions: list[dict[str, str]] = []
    # Shown during enrolment only; the secret is the user's own.
    enrol_secret: str = ""
    enrol_qr: str = ""
    # Shown once, right after 2FA is turned on.
    recovery_codes: list[str] = []
    notice: str = ""
    error: str = ""

    def _user(self) -> CurrentUser | None:
        user = current_user(self)
        if user is None:
            self.access, self.sessions, self.recovery_codes = "denied", [], []
            self.enrol_secret = self.enrol_qr = ""
        return user

    def _refresh(self, user: CurrentUser) -> None:
        with db.read() as conn:
            info = security.overview(conn, user.user_id)
            sessions = list_sessions(conn, user.user_id)
        self.access = "ok"
        self.email, self.email_verified = info.email, info.email_verified
        self.two_factor, self.recovery_left = info.two_factor, info.recovery_codes_left
        self.anti_phishing = info.anti_phishing_code
        self.password_changed = when(info.password_changed_at)
        self.last_login = (f"{when(info.last_login.created_at)} from {info.last_login.ip or '?'}"
                           f" ({info.last_login.device})" if info.last_login else "—")
        self.restrictions = info.restrictions
        self.sessions = [
            {"id": str(s.id), "device": s.device, "ip": s.ip or "—",
             "first": when(s.first_seen), "last": when(s.last_seen),
             "current": "yes" if s.id == user.session_id else ""}
            for s in sessions
        ]

    def _done(self, user: CurrentUser, notice: str = "", error: str = "") -> None:
        self.notice, self.error = notice, error
        self._refresh(user)

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        self.recovery_codes = []
        user = self._user()
        if user is None:
            return navigate(routes.login(routes.SECURITY))
        self._refresh(user)
        return None

    @event
    def change_password(self, form: dict) -> rx.event.EventSpec | None:
        user = self._user()
        if user is None:
            return navigate(routes.login(routes.SECURITY))
        new = str(form.get("new", ""))
        if new != str(form.get("confirm", "")):
            self._done(user, error="The two new passwords do not match.")
            return None
        try:
            with db.write() as conn:
                security.change_password(conn, user.user_id, str(form.get("current", "")), new)
        except AccountError as exc:
            self._done(user, error=str(exc))
            return None
        # Every session ended, this one included: log in again with the new password.
        return navigate(routes.AUTH_LOGOUT)

    @event
    def start_two_factor(self) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                enrolment = totp.begin_enrolment(conn, user.user_id, user.email)
        except ValueError as exc:
            self._done(user, error=str(exc))
            return
        self.enrol_secret, self.enrol_qr = enrolment.secret, enrolment.qr_data_uri
        self._done(user)

    @event
    def confirm_two_factor(self, form: dict) -> None:
        user = self._user()
        if user is None:
            return
        with db.write() as conn:
            codes = security.confirm_two_factor(conn, user.user_id, str(form.get("code", "")))
        if codes is None:
            self._done(user, error=security.GENERIC_CODE_FAILURE)
            return
        self.enrol_secret = self.enrol_qr = ""
        self.recovery_codes = codes
        self._done(user, notice="Two-factor authentication is on.")

    @event
    def disable_two_factor(self, form: dict) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                security.disable_two_factor(conn, user.user_id, str(form.get("password", "")),
                                            str(form.get("code", "")))
        except AccountError as exc:
            self._done(user, error=str(exc))
            return
        self._done(user, notice="Two-factor authentication is off.")

    @event
    def dismiss_codes(self) -> None:
        self.recovery_codes = []

    @event
    def revoke_session(self, session_id: int) -> None:
        user = self._user()
        if user is None:
            return
        try:
            target = parse_id(session_id)
        except InputError:
            target = -1
        with db.write() as conn:
            ended = revoke_user_session(conn, user.user_id, target)
        self._done(user, notice="Session ended." if ended else "",
                   error="" if ended else "No such session.")

    @event
    def revoke_other_sessions(self) -> None:
        user = self._user()
        if user is None:
            return
        with db.write() as conn:
            ended = revoke_all_sessions(conn, user.user_id, keep=user.session_id)
        self._done(user, notice=f"{ended} other session(s) ended.")

    @event
    def set_anti_phishing(self, form: dict) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                security.set_anti_phishing_code(conn, user.user_id, str(form.get("code", "")))
        except AccountError as exc:
            self._done(user, error=str(exc))
            return
        self._done(user, notice="Anti-phishing code saved.")

    @event
    def resend_verification(self) -> None:
        user = self._user()
        if user is None:
            return
        with db.write() as conn:
            message = security.resend_verification(conn, user.user_id, ip=client_ip(self))
        self._done(user, notice=message)


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
            rx.grid(status_card(), two_factor_card(), password_card(), anti_phishing_card(),
                    columns="2", spacing="4", width="100%"),
            sessions_card(),
            spacing="4", width="100%",
        ),
        rx.text("Loading…", color_scheme="gray"),
    ))
