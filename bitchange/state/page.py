"""The signed-in user's page: `UserPage` is the one way a page's state opens for its user (or
sends the visitor to log in), with the page's one-line outcome (`notice`, `error`)."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.accounts.sessions import CurrentUser
from bitchange.state.auth import current_user, navigate


class UserPage(rx.State, mixin=True):
    """`access` is "unknown" until the server has decided, then "ok" or "denied"."""

    access: str = "unknown"
    notice: str = ""
    error: str = ""

    def _open(self, back_to: str) -> tuple[CurrentUser | None, rx.event.EventSpec | None]:
        """A page's `load`: (the user, None) with the page open and its outcome cleared, or
        (None, the login page that comes back to `back_to`) with the page denied."""
        self.notice = self.error = ""
        user = current_user(self)
        if user is None:
            self.access = "denied"
            return None, navigate(routes.login(back_to))
        self.access = "ok"
        return user, None
