"""The login form's state: the password step, then the 2FA code step when it is on (a code or a
passkey), or a passkey alone where the user enabled it; the session cookie is set by the
backend route (`/auth/session`), never by page script."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import passkeys, security
from bitchange.clock import now
from bitchange.components.passkeys import ceremony
from bitchange.state.auth import client_ip, navigate, user_agent
from bitchange.state.events import event

PENDING_LIFETIME = timedelta(minutes=5)


class LoginState(rx.State):
    error: str = ""
    # "password" or "code"; which form is shown. Who passed the password step is kept in
    # backend-only vars, never sent to or taken from the browser.
    step: str = "password"
    passkey: bool = False  # the code step may be answered with a passkey
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
        self.error, self.step, self.passkey = "", "password", False
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
            self.step, self.error, self.passkey = "code", "", outcome.passkey
            return None
        self.error = outcome.message
        return None

    def _pending(self) -> int | None:
        user_id, until = self._pending_user_id, self._pending_until
        if user_id is None or until is None or now() > until:
            self._restart()
            self.error = "Your login timed out. Enter your password again."
            return None
        return user_id

    def _second_factor(self, code: str) -> rx.event.EventSpec | None:
        user_id = self._pending()
        if user_id is None:
            return None
        with db.write() as conn:
            outcome = security.login_code(conn, user_id, code, ip=client_ip(self),
                                          user_agent=user_agent(self))
        if outcome.status == "ok" and outcome.ticket:
            return self._finish(outcome.ticket)
        if outcome.status in ("throttled", "frozen"):
            self._restart()
        self.error = outcome.message
        return None

    @event
    def submit_code(self, form: dict) -> rx.event.EventSpec | None:
        return self._second_factor(str(form.get("code", "")))

    @event
    def use_passkey(self) -> rx.event.EventSpec | None:
        """The code step answered with one of the user's passkeys instead."""
        user_id = self._pending()
        if user_id is None:
            return None
        with db.write() as conn:
            options = passkeys.assertion_options(conn, user_id)
        self.error = ""
        return ceremony("get", options, LoginState.submit_passkey)

    @event
    def submit_passkey(self, answer: str) -> rx.event.EventSpec | None:
        if '"error"' in answer[:12]:
            self.error = passkeys.NOT_ACCEPTED
            return None
        return self._second_factor(answer)

    @event
    def use_passwordless(self) -> rx.event.EventSpec:
        """Sign in with a passkey alone (accounts whose owner turned it on)."""
        self._restart()
        with db.write() as conn:
            options = passkeys.assertion_options(conn, None)
        return ceremony("get", options, LoginState.submit_passwordless)

    @event
    def submit_passwordless(self, answer: str) -> rx.event.EventSpec | None:
        with db.write() as conn:
            outcome = security.login_passkey(conn, answer, ip=client_ip(self),
                                             user_agent=user_agent(self))
        if outcome.status == "ok" and outcome.ticket:
            return self._finish(outcome.ticket)
        self.error = outcome.message
        return None
