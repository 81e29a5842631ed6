"""Log in with email and password; the session cookie is set by the backend route."""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from bitchange import db, routes
from bitchange.accounts.sessions import start_session
from bitchange.accounts.users import authenticate
from bitchange.components.shell import page
from bitchange.state.auth import navigate

GENERIC_FAILURE = "Incorrect email or password."


class LoginState(rx.State):
    error: str = ""

    @rx.event
    def clear(self) -> None:
        self.error = ""

    @rx.event
    def submit(self, form: dict) -> rx.event.EventSpec | None:
        email = str(form.get("email", ""))
        password = str(form.get("password", ""))
        if not email.strip() or not password:
            self.error = "Enter your email and password."
            return None
        with db.write() as conn:
            user = authenticate(conn, email, password)
            ticket = user and start_session(
                conn, user.id, ip=self.router.session.client_ip,
                user_agent=self.router.headers.user_agent,
            )
        if not ticket:
            self.error = GENERIC_FAILURE
            return None
        self.error = ""
        target = routes.safe_next(self.router.url.query_parameters.get("next"))
        return navigate(f"{routes.AUTH_SESSION}?ticket={ticket}&next={quote(target)}")


def login() -> rx.Component:
    return page(
        rx.center(
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Log in", size="6"),
                        rx.text("Email", size="2"),
                        rx.input(name="email", type="email", placeholder="you@example.com",
                                 id="login-email", width="100%", auto_complete="username"),
                        rx.text("Password", size="2"),
                        rx.input(name="password", type="password", id="login-password",
                                 width="100%", auto_complete="current-password"),
                        rx.cond(
                            LoginState.error != "",
                            rx.callout(LoginState.error, icon="triangle-alert", color_scheme="red",
                                       id="login-error", width="100%"),
                        ),
                        rx.button("Log in", type="submit", width="100%", id="login-submit"),
                        spacing="3", width="100%",
                    ),
                    on_submit=LoginState.submit,
                    reset_on_submit=False,
                ),
                width="380px",
            ),
            padding_y="3em",
        ),
        max_width="600px",
    )
