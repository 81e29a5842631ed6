"""Log in with email and password, then a 2FA code when it is on; the session cookie is set by
the backend route (`/auth/session`), never by page script."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.shell import page
from bitchange.state.login import LoginState


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
            rx.button("Sign in with a passkey", type="button", variant="outline",
                      width="100%", on_click=LoginState.use_passwordless,
                      id="login-passwordless"),
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
            rx.cond(LoginState.passkey, rx.button(
                "Use a passkey instead", type="button", variant="outline", width="100%",
                on_click=LoginState.use_passkey, id="login-passkey")),
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
