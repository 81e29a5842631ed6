"""The admin area's states, one module per page. Every handler re-checks the admin (with 2FA)
on the server: a page's state derives from `AdminPage`, whose `_open` is the first step of its
`load` and `_admin` the first step of every other handler."""

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


class AdminPage(rx.State, mixin=True):
    """`access` is "unknown" until the server has decided, then "admin" or "denied"; a caller
    who is not an admin (with 2FA) is denied and sees nothing of the page (`_clear`)."""

    access: str = "unknown"

    def _clear(self) -> None:
        """Forget what the page shows; each page's state says what that is."""

    def _deny(self) -> None:
        self.access = "denied"
        self._clear()

    def _open(self, back_to: str) -> tuple[CurrentUser | None, rx.event.EventSpec | None]:
        """A page's `load`: (the admin, None), or (None, where to send the visitor) with the
        page denied."""
        user, redirect = gate(self, back_to)
        if user is None:
            self._deny()
        else:
            self.access = "admin"
        return user, redirect

    def _admin(self) -> CurrentUser | None:
        """Any other handler's first step: the admin, or None with the page denied."""
        user = current_admin(self)
        if user is None:
            self._deny()
        return user
