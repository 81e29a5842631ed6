"""Who is calling: resolved on the server from the HttpOnly session cookie, for every event.

Handlers never take a user id from event arguments; they call `current_user(self)`.
"""

from __future__ import annotations

import json

import reflex as rx

from bitchange import db, routes
from bitchange.accounts.sessions import (
    CurrentUser,
    resolve_session,
    revoke_token,
    token_from_cookie_header,
    touch,
)
from bitchange.state.events import event


def _session_token(state: rx.State) -> str:
    return token_from_cookie_header(state.router.headers.cookie)


def current_user(state: rx.State, *, active: bool = True) -> CurrentUser | None:
    """The signed-in user of the browser that sent this event, checked against the database.

    `active=False` for pushes the user did not cause (live updates): they must not keep an idle
    session alive."""
    with db.read() as conn:
        user = resolve_session(conn, _session_token(state))
    if active and user is not None and user.needs_touch:
        with db.write() as conn:
            touch(conn, user.session_id)
    return user


def client_ip(state: rx.State) -> str:
    return state.router.session.client_ip or ""


def user_agent(state: rx.State) -> str:
    return state.router.headers.user_agent or ""


def current_admin(state: rx.State) -> CurrentUser | None:
    """The caller if they are an admin *with 2FA on* (admins must have it) and, under
    ADMIN_REQUIRE_PASSKEY, a passkey; else None."""
    user = current_user(state)
    return user if user is not None and user.acts_as_admin else None


def navigate(path: str) -> rx.event.EventSpec:
    """A full page load (not client-side routing), so the browser sends a fresh cookie."""
    return rx.call_script(f"window.location.assign({json.dumps(path)})")


class SessionState(rx.State):
    """What the page chrome may know about the visitor; nothing secret."""

    signed_in: bool = False
    email: str = ""
    is_admin: bool = False
    email_verified: bool = True

    @event
    def refresh(self) -> None:
        user = current_user(self)
        self.signed_in = user is not None
        self.email = user.email if user else ""
        self.is_admin = bool(user and user.is_admin)
        self.email_verified = bool(user is None or user.email_verified)

    @event
    def logout(self) -> rx.event.EventSpec:
        with db.write() as conn:
            revoke_token(conn, _session_token(self))
        self.signed_in, self.email, self.is_admin = False, "", False
        return navigate(routes.AUTH_LOGOUT)
