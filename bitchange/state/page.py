"""The signed-in user's page: `UserPage` is the one way a page's state opens for its user (or
sends the visitor to log in), with the page's one-line outcome (`notice`, `error`);
`AccountPage` the same for the pages of the account itself (account, security centre), whose
forms re-authenticate the owner (`reauth_form`)."""

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


class AccountPage(UserPage, rx.State, mixin=True):
    """A page of the user's own account: its `_refresh(user)` shows it (`access` "ok"), its
    `_forget()` clears what it showed once the session is gone, and every form ends in `_done`."""

    def _user(self) -> CurrentUser | None:
        user = current_user(self)
        if user is None:
            self.access = "denied"
            self._forget()
        return user

    def _done(self, user: CurrentUser, notice: str = "", error: str = "") -> None:
        self.notice, self.error = notice, error
        self._refresh(user)

    def _load(self, back_to: str) -> rx.event.EventSpec | None:
        """A page's `load`: shown with its outcome cleared, or the login page that comes back
        to `back_to`."""
        self.notice = self.error = ""
        user = self._user()
        if user is None:
            return navigate(routes.login(back_to))
        self._refresh(user)
        return None


def reauth_form(form: dict) -> tuple[str, str]:
    """A form's fresh proof of the owner (`accounts.reauth.check`): the password, the 2FA code."""
    return str(form.get("password", "")), str(form.get("code", ""))
