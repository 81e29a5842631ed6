"""The admin area's states, one module per page. Every handler re-checks the admin (with 2FA)
on the server; `gate` is the common first step of a page's `load`."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.accounts.sessions import CurrentUser
from bitchange.state.auth import current_admin, current_user, navigate


def gate(state: rx.State, back_to: str) -> tuple[CurrentUser | None, rx.event.EventSpec | None]:
    """(admin user, None) or (None, where to send the visitor: the login page if anonymous)."""
    user = current_admin(state)
    if user is not None:
        return user, None
    return None, navigate(routes.login(back_to)) if current_user(state) is None else None
