"""The admin area's states, one module per page. Every handler re-checks the admin (with 2FA)
on the server: a page's state derives from `AdminPage`, whose `_open` is the first step of its
`load` and `_admin` the first step of every other handler."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from sqlalchemy import Connection

from bitchange import db, routes
from bitchange.accounts.sessions import CurrentUser
from bitchange.money import AmountError, parse_amount
from bitchange.state.auth import client_ip, current_admin, current_user, navigate
from bitchange.trading.markets import AssetInfo, assets


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


class AdminForm(AdminPage, mixin=True):
    """An admin page of forms: every handler's first step (`_admin`) also clears the outcome
    of the last one (`notice`, `error`)."""

    notice: str = ""
    error: str = ""

    def _admin(self) -> CurrentUser | None:
        self.notice = self.error = ""
        return super()._admin()

    def _load(self, back_to: str) -> rx.event.EventSpec | None:
        """A page's `load`: shown (`_refresh`) with the outcome cleared, or denied."""
        self.notice = self.error = ""
        user, redirect = self._open(back_to)
        if user is None:
            return redirect
        self._refresh()
        return None

    def _write(self, action: Callable[[Connection, CurrentUser], str],
               *errors: type[Exception]) -> None:
        """A form's change as the admin, in one transaction: `notice` what `action` returns,
        or `error` what it raised of `errors`; the page shows the outcome (`_refresh`)."""
        admin = self._admin()
        if admin is None:
            return
        try:
            with db.write() as conn:
                notice = action(conn, admin)
            self.notice = notice
        except errors as exc:
            self.error = str(exc)
        self._refresh()

    def _fund(self, form: dict, fund: Callable[..., object], error: type[Exception],
              account: str) -> None:
        """A pool account's funding form (`form_funding`), from the fees through `fund`."""
        def act(conn: Connection, admin: CurrentUser) -> str:
            asset, amount = form_funding(conn, form, error)
            fund(conn, admin.user_id, asset, amount, source="fees", ip=client_ip(self))
            return f"{account} funded with {form.get('amount')} {asset}."

        self._write(act, error, AmountError)


def form_asset(conn: Connection, form: dict, error: type[Exception], key: str = "asset"
               ) -> AssetInfo:
    """The asset a form's `key` field names, or `error("Choose an asset.")`."""
    info = assets(conn).get(str(form.get(key, "")))
    if info is None:
        raise error("Choose an asset.")
    return info


def form_funding(conn: Connection, form: dict, error: type[Exception]) -> tuple[str, int]:
    """(asset, amount in minor units) of a form that funds a pool account (`asset`, `amount`);
    an unknown asset is `error`, a bad amount `AmountError`."""
    info = form_asset(conn, form, error)
    return info.code, parse_amount(str(form.get("amount", "")), info.precision)
