"""The withdraw page's state (address book, request form, the user's withdrawals: built by
`bitchange.wallet.views.withdraw_view`, reading only, followed live), and the two pages the
emailed links open. The links act only when the button is pressed, never on load (mail
scanners follow links)."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts.sessions import CurrentUser
from bitchange.inputs import parse_id
from bitchange.money import AmountError, parse_amount
from bitchange.state import live
from bitchange.state.auth import client_ip, current_user, navigate
from bitchange.state.events import event
from bitchange.state.passkey_code import PasskeyCode
from bitchange.trading.markets import assets
from bitchange.wallet import address_book, chains, withdrawals
from bitchange.wallet.errors import WalletError
from bitchange.wallet.views import page_asset, withdraw_view, withdrawal_summary


class WithdrawState(PasskeyCode, rx.State):
    access: str = "unknown"
    asset: str = "BTC"
    assets: list[str] = list(chains.SCHEMES)
    book: list[dict[str, str]] = []
    ready: list[dict[str, str]] = []  # usable addresses for the form
    rows: list[dict[str, str]] = []
    available: str = ""
    fee: str = ""
    minimum: str = ""
    limit: str = ""
    paused: str = ""
    # A form is cleared (re-mounted under a new key) only after it succeeded: a refused form
    # keeps what was chosen and typed, to be corrected.
    book_form: str = "0"
    request_form: str = "0"

    def _user(self) -> CurrentUser | None:
        user = current_user(self)
        if user is None:
            self.access, self.book, self.ready, self.rows = "denied", [], [], []
        return user

    def _passkey_user(self) -> int | None:
        user = self._user()
        return None if user is None else user.user_id

    def _passkey_ready_notice(self) -> str:
        return "Passkey ready: request the withdrawal (leave the code empty)."

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            view = withdraw_view(conn, user_id, self.asset)
        self.access = "ok"
        self.book, self.ready, self.rows = view.book, view.ready, view.rows
        self.available, self.fee, self.minimum = view.available, view.fee, view.minimum
        self.limit, self.paused = view.limit, view.paused
        self._has_passkey(user_id)

    def _done(self, user_id: int, notice: str = "", error: str = "") -> None:
        self.notice, self.error = notice, error
        self._refresh(user_id)

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        wanted = self.router.url.query_parameters.get("asset", "BTC").upper()
        user = self._user()
        if user is None:
            return navigate(routes.login(f"{routes.WITHDRAW}?asset={wanted}"))
        self.asset = page_asset(wanted)
        live.watch(self, live.for_user(WithdrawState._refresh), user_id=user.user_id,
                   activity=frozenset({live.LEDGER, live.WITHDRAWALS}))
        self._refresh(user.user_id)
        return None

    @event
    def add_address(self, form: dict) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                address_book.add(conn, user.user_id, self.asset, str(form.get("address", "")),
                                 str(form.get("label", "")))
        except WalletError as exc:
            self._done(user.user_id, error=str(exc))
            return
        self.book_form = str(int(self.book_form) + 1)
        self._done(user.user_id, notice="Address saved. Confirm it from the link we emailed "
                                        "you; it can be used once the hold has passed.")

    @event
    def remove_address(self, entry_id: str) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                address_book.remove(conn, user.user_id, parse_id(entry_id))
        except (WalletError, ValueError, TypeError):
            self._done(user.user_id, error="No such address in your address book.")
            return
        self._done(user.user_id, notice="Address removed.")

    @event
    def request(self, form: dict) -> None:
        user = self._user()
        if user is None:
            return
        try:
            address_id = parse_id(form.get("address_id"))
            with db.read() as conn:
                precision = assets(conn)[self.asset].precision
            amount = parse_amount(str(form.get("amount", "")), precision)
            # The amount was parsed with this page's asset: the service refuses an address
            # (from the form) of another asset.
            withdrawals.request(user.user_id, address_id, amount, self._code(form),
                                ip=client_ip(self), asset=self.asset)
        except (AmountError, WalletError) as exc:
            self._done(user.user_id, error=str(exc))
            return
        except ValueError:
            self._done(user.user_id, error="Choose an address from your address book.")
            return
        self.request_form = str(int(self.request_form) + 1)
        self._done(user.user_id, notice="Check your email and confirm the withdrawal with the "
                                        "link we sent you. The funds are held meanwhile.")

    @event
    def cancel(self, withdrawal_id: str) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                withdrawals.cancel(conn, user.user_id, parse_id(withdrawal_id),
                                  ip=client_ip(self))
        except (WalletError, ValueError, TypeError) as exc:
            self._done(user.user_id, error=str(exc) if isinstance(exc, WalletError) else
                       "No such withdrawal.")
            return
        self._done(user.user_id, notice="Withdrawal cancelled; the funds are available again.")


# --- the emailed links -------------------------------------------------------------------------

def _token(state: rx.State) -> str:
    return state.router.url.query_parameters.get("token", "")


class AddressConfirmState(rx.State):
    # checking | valid | done | invalid
    status: str = "checking"
    address: str = ""
    asset: str = ""

    @event
    def load(self) -> None:
        with db.read() as conn:
            entry = address_book.peek_token(conn, _token(self))
        self.status = "valid" if entry else "invalid"
        self.address, self.asset = (entry.address, entry.asset) if entry else ("", "")

    @event
    def confirm(self) -> None:
        try:
            with db.write() as conn:
                address_book.confirm(conn, _token(self))
        except WalletError:
            self.status = "invalid"
            return
        self.status = "done"


class WithdrawConfirmState(rx.State):
    # checking | valid | confirmed | cancelled | invalid
    status: str = "checking"
    summary: str = ""

    @event
    def load(self) -> None:
        with db.read() as conn:
            summary = withdrawal_summary(conn, _token(self))
        self.status = "invalid" if summary is None else "valid"
        if summary is not None:
            self.summary = summary

    @event
    def confirm(self) -> None:
        try:
            with db.write() as conn:
                withdrawals.confirm(conn, _token(self), ip=client_ip(self))
        except WalletError:
            self.status = "invalid"
            return
        self.status = "confirmed"

    @event
    def cancel(self) -> None:
        try:
            with db.write() as conn:
                withdrawals.cancel_by_token(conn, _token(self), ip=client_ip(self))
        except WalletError:
            self.status = "invalid"
            return
        self.status = "cancelled"
