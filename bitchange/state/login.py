"""The login form's state: the password step, then the 2FA code step when it is on; the session
cookie is set by the backend route (`/auth/session`), never by page script."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import security
from bitchange.clock import now
from bitchange.state.auth import client_ip, navigate, user_agent
from bitchange.state.events import event

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
