"""Log in with email and password, then a 2FA code when it is on; the session cookie is set by
the backend route (`/auth/session`), never by page script."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import security
from bitchange.clock import now
from bitchange.components.shell import page
from bitchange.state.auth import client_ip, navigate, user_agent
from bitchange.state.events import event

GENERIC_FAILURE = security.GENERIC_LOGIN_FAILURE
PENDING_LIFETIME = timedelta(minutes=5)


class LoginState(rx.State):
    error: str = ""
    # "password" or "code"; which form is shown. Who passed the password step is kept in
    # backend-only vars, never sent to or taken from the browser.
    step: str = "password"
    _pending_user_id: int | None = None
    _pending_until: datetime | None = None

    @event
    def clear(self) -> None:
        """On load: forget a stale half-finished login. A fresh one (password accepted less
        than PENDING_LIFETIME ago) stays, so a load event processed after a quick submit does
        not undo it."""
        self.error = ""
        if self._pending_until is None or now() > self._pending_until:
            self._restart()

    @event
    def restart(self) -> None:
        self._restart()

    def _restart(self) -> None:
        self.error, self.step = "", "password"
        self._pending_user_id = self._pending_until = None

    def _finish(self, ticket: str) -> rx.event.EventSpec:
        self.error, self.step = "", "password"
        self._pending_user_id = self._pending_until = None
        target = routes.safe_next(self.router.url.query_parameters.get("next"))
        return navigate(f"{routes.AUTH_SESSION}?ticket={ticket}&next={quote(target)}")

    @event
    def submit(self, form: dict) -> rx.event.EventSpec | None:
        email = str(form.get("email", ""))
        password = str(form.get("password", ""))
        if not email.strip() or not password:
            self.error = "Enter your email and password."
            return None
        with db.write() as conn:
            outcome = security.login_password(conn, email, password, ip=client_ip(self),
                                              user_agent=user_agent(self))
        if outcome.status == "ok" and outcome.ticket:
            return self._finish(outcome.ticket)
        if outcome.status == "need_code":
            self._pending_user_id = outcome.user_id
            self._pending_until = now() + PENDING_LIFETIME
            self.step, self.error = "code", ""
            return None
        self.error = outcome.message
        return None

    @event
    def submit_code(self, form: dict) -> rx.event.EventSpec | None:
        user_id, until = self._pending_user_id, self._pending_until
        if user_id is None or until is None or now() > until:
            self._restart()
            self.error = "Your login timed out. Enter your password again."
            return None
        with db.write() as conn:
            outcome = security.login_code(conn, user_id, str(form.get("code", "")),
                                          ip=client_ip(self), user_agent=user_agent(self))
        if outcome.status == "ok" and outcome.ticket:
            return self._finish(outcome.ticket)
        if outcome.status in ("throttled", "frozen"):
            self._restart()
        self.error = outcome.message
        return None


def _error() -> rx.Component:
    return rx.cond(LoginState.error != "", rx.callout(
        LoginState.error, icon="triangle-alert", color_scheme="red", id="login-error",
        width="100%"))


def password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Log in", size="6"),
            rx.text("Email", size="2"),
            rx.input(name="email", type="email", placeholder="you@example.com",
                     id="login-email", width="100%", auto_complete="username"),
            rx.text("Password", size="2"),
            rx.input(name="password", type="password", id="login-password",
                     width="100%", auto_complete="current-password"),
            _error(),
            rx.button("Log in", type="submit", width="100%", id="login-submit"),
            rx.hstack(
                rx.link("Forgot your password?", href=routes.FORGOT_PASSWORD, size="2",
                        id="forgot-link"),
                rx.link("Create an account", href=routes.SIGNUP, size="2"),
                justify="between", width="100%",
            ),
            spacing="3", width="100%",
        ),
        on_submit=LoginState.submit,
        reset_on_submit=False,
    )


def code_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Two-factor authentication", size="6"),
            rx.text("Enter the 6-digit code from your authenticator app, or one of your "
                    "recovery codes.", size="2", color_scheme="gray"),
            rx.input(name="code", id="login-code", width="100%", auto_complete="one-time-code",
                     input_mode="numeric", auto_focus=True),
            _error(),
            rx.button("Verify", type="submit", width="100%", id="login-code-submit"),
            rx.link("Start over", on_click=LoginState.restart, size="2", href="#"),
            spacing="3", width="100%",
        ),
        on_submit=LoginState.submit_code,
        reset_on_submit=True,
    )


def login() -> rx.Component:
    return page(
        rx.center(
            rx.card(
                rx.cond(LoginState.step == "code", code_form(), password_form()),
                width="380px",
            ),
            padding_y="3em",
        ),
        max_width="600px",
    )
