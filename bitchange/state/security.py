"""The security centre (status, password, 2FA, recovery codes, sessions and devices, the
anti-phishing code), the login history, and the "this wasn't me" link of a login alert. Every
handler of the signed-in pages resolves the user from the session cookie."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import passkeys, security, totp
from bitchange.accounts.sessions import CurrentUser, revoke_all_sessions, revoke_user_session
from bitchange.accounts.users import AccountError
from bitchange.accounts.views import login_history_rows, security_view
from bitchange.components.passkeys import ceremony
from bitchange.inputs import InputError, parse_id
from bitchange.state.auth import client_ip, current_user, navigate
from bitchange.state.events import event
from bitchange.state.page import AccountPage, reauth_form


class SecurityState(AccountPage, rx.State):
    email: str = ""
    email_verified: bool = False
    two_factor: bool = False
    recovery_left: int = 0
    anti_phishing: str = ""
    password_changed: str = ""
    last_login: str = ""
    restrictions: list[str] = []
    sessions: list[dict[str, str]] = []
    passkeys: list[dict[str, str]] = []
    passwordless: bool = False
    pending_email: str = ""
    # The name of the passkey being created (between the options and the browser's answer).
    _passkey_name: str = ""
    # Shown during enrolment only; the secret is the user's own.
    enrol_secret: str = ""
    enrol_qr: str = ""
    # Shown once, right after 2FA is turned on.
    recovery_codes: list[str] = []

    def _forget(self) -> None:
        self.sessions, self.recovery_codes = [], []
        self.enrol_secret = self.enrol_qr = ""

    def _refresh(self, user: CurrentUser) -> None:
        with db.read() as conn:
            view = security_view(conn, user.user_id, user.session_id)
        self.access = "ok"
        self.email, self.email_verified = view.email, view.email_verified
        self.two_factor, self.recovery_left = view.two_factor, view.recovery_left
        self.anti_phishing = view.anti_phishing
        self.password_changed, self.last_login = view.password_changed, view.last_login
        self.restrictions, self.sessions = view.restrictions, view.sessions
        self.passkeys, self.passwordless = view.passkeys, view.passwordless
        self.pending_email = view.pending_email

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.recovery_codes = []
        return self._load(routes.SECURITY)

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
        try:
            with db.write() as conn:
                codes = security.confirm_two_factor(conn, user.user_id,
                                                    str(form.get("code", "")))
        except AccountError as exc:
            self._done(user, error=str(exc))
            return
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
                security.disable_two_factor(conn, user.user_id, *reauth_form(form))
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


    # --- passkeys -----------------------------------------------------------------------------

    @event
    def begin_passkey(self, form: dict) -> rx.event.EventSpec | None:
        """Password and 2FA code checked, then the browser creates the passkey."""
        user = self._user()
        if user is None:
            return navigate(routes.login(routes.SECURITY))
        name = " ".join(str(form.get("name", "")).split())
        try:
            if not 1 <= len(name) <= 64:
                raise AccountError("Give the passkey a name of 1 to 64 characters.")
            with db.write() as conn:
                options = security.begin_passkey(conn, user.user_id, *reauth_form(form))
        except AccountError as exc:
            self._done(user, error=str(exc))
            return None
        self._passkey_name = name
        self.notice = self.error = ""
        return ceremony("create", options, SecurityState.finish_passkey)

    @event
    def finish_passkey(self, answer: str) -> None:
        user = self._user()
        if user is None:
            return
        name, self._passkey_name = self._passkey_name, ""
        try:
            with db.write() as conn:
                security.add_passkey(conn, user.user_id, answer, name)
        except AccountError as exc:
            self._done(user, error=str(exc))
            return
        self._done(user, notice=f"Passkey \u201c{name}\u201d added.")

    @event
    def rename_passkey(self, form: dict) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                passkeys.rename(conn, user.user_id, parse_id(form.get("id")),
                                str(form.get("name", "")))
        except (AccountError, InputError) as exc:
            self._done(user, error=str(exc))
            return
        self._done(user, notice="Passkey renamed.")

    @event
    def remove_passkey(self, passkey_id: int) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                security.remove_passkey(conn, user.user_id, parse_id(passkey_id))
        except (AccountError, InputError) as exc:
            self._done(user, error=str(exc))
            return
        self._done(user, notice="Passkey removed.")

    @event
    def set_passwordless(self, enabled: bool) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                security.set_passwordless(conn, user.user_id, enabled)
        except AccountError as exc:
            self._done(user, error=str(exc))
            return
        self._done(user, notice="Passwordless sign-in is " + ("on." if enabled else "off."))


class LoginHistoryState(rx.State):
    rows: list[dict[str, str]] = []

    @event
    def load(self) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            self.rows = []
            return navigate(routes.login(routes.LOGIN_HISTORY))
        with db.read() as conn:
            self.rows = login_history_rows(conn, user.user_id)
        return None


class NotMeState(rx.State):
    status: str = "checking"

    @event
    def load(self) -> None:
        # Acts on load: one click from the email ends every session and freezes the account.
        token = self.router.url.query_parameters.get("token", "")
        with db.write() as conn:
            self.status = "ok" if security.report_not_me(conn, token) else "invalid"
