"""Withdraw: the address book (add, confirm by email, hold), the request form (address, amount,
fee, 2FA code), and the user's withdrawals with their status; plus the two pages the emailed
links open. The links act only when the button is pressed, never on load (mail scanners follow
links)."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.clock import now, when
from bitchange.components.card import card
from bitchange.components.lists import messages, table
from bitchange.components.wallet_frame import asset_tabs, frame
from bitchange.inputs import parse_id
from bitchange.money import AmountError, parse_amount
from bitchange.state import live
from bitchange.state.auth import client_ip, current_user, navigate
from bitchange.state.events import event
from bitchange.trading.markets import assets, format_usdt
from bitchange.wallet import address_book, chains, controls, withdrawals
from bitchange.wallet.errors import WalletError


class WithdrawState(rx.State):
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
    notice: str = ""
    error: str = ""
    # A form is cleared (re-mounted under a new key) only after it succeeded: a refused form
    # keeps what was chosen and typed, to be corrected.
    book_form: str = "0"
    request_form: str = "0"

    def _user(self):  # type: ignore[no-untyped-def]
        user = current_user(self)
        if user is None:
            self.access, self.book, self.ready, self.rows = "denied", [], [], []
        return user

    def _refresh(self, user_id: int) -> None:
        moment = now()
        with db.write() as conn:
            withdrawals.expire_stale(conn)
        with db.read() as conn:
            shown = assets(conn)[self.asset].format
            entries = address_book.entries(conn, user_id, self.asset)
            mine = [w for w in withdrawals.of_user(conn, user_id) if w.asset == self.asset]
            q = withdrawals.quote(conn, user_id, self.asset)
            from bitchange import ledger

            balance = ledger.balances_of(conn, ledger.account_for_user(conn, user_id))
            self.paused = controls.paused_reason(conn, self.asset) or ""
        self.access = "ok"
        self.book = [{"id": str(e.id), "address": e.address, "label": e.label,
                      "state": e.state(moment), "added": when(e.created_at)} for e in entries]
        self.ready = [{"id": str(e.id), "text": f"{e.label} {e.address}".strip()}
                      for e in entries if e.usable(moment)]
        self.rows = [{
            "id": str(w.id), "time": when(w.created_at),
            "amount": shown(w.amount),
            "receive": shown(w.amount - w.fee), "address": w.address,
            "status": w.label, "txid": w.txid, "reason": w.reason,
            "cancellable": "yes" if w.status in ("awaiting_email", "pending_review") else "",
        } for w in mine]
        self.available = shown(balance.get(self.asset, (0, 0))[0])
        self.fee = shown(q.fee)
        self.minimum = shown(q.minimum)
        self.limit = (f"{format_usdt(q.used_today_usdt)} of "
                      f"{format_usdt(q.daily_limit_usdt)} USDT used in the last 24h")

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
        self.asset = wanted if wanted in chains.SCHEMES else "BTC"
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
            withdrawals.request(user.user_id, address_id, amount, str(form.get("code", "")),
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


def _book_card() -> rx.Component:
    S = WithdrawState
    return rx.card(rx.vstack(
        rx.heading("Address book", size="4", as_="h2"),
        table(["Label", "Address", "Added", "State", ""], S.book,
              lambda r: [r["label"], rx.code(r["address"], size="1"), r["added"],
                         rx.text(r["state"], class_name="book-state"),
                         rx.button("Remove", size="1", variant="ghost", color_scheme="red",
                                   on_click=S.remove_address(r["id"]))],
              "book-row", "book-table",
              empty=("No saved addresses.", "Add one below: you can withdraw to it once it "
                     "is confirmed from the email and its security hold has passed.")),
        rx.form(rx.hstack(
            rx.input(name="address", placeholder=S.asset + " address", id="book-address",
                     width="420px"),
            rx.input(name="label", placeholder="Label (optional)", id="book-label",
                     width="180px"),
            rx.button("Add address", type="submit", id="book-add"),
            spacing="2", wrap="wrap",
        ), on_submit=S.add_address, key=S.book_form),
        rx.text("New addresses must be confirmed from an email and then wait out a security "
                "hold before they can be used.", size="1", color_scheme="gray"),
        spacing="3", width="100%",
    ), width="100%")


def _request_card() -> rx.Component:
    S = WithdrawState
    return rx.card(rx.form(rx.vstack(
        rx.heading("Request a withdrawal", size="4", as_="h2"),
        rx.cond(S.paused != "", rx.callout(S.paused, icon="pause", color_scheme="amber",
                                           id="withdraw-paused")),
        rx.text("Available: ", S.available, " ", S.asset, size="2", id="withdraw-available"),
        rx.el.select(rx.el.option("Choose an address…", value=""),
                     rx.foreach(S.ready, lambda a: rx.el.option(a["text"], value=a["id"])),
                     name="address_id", id="withdraw-address"),
        rx.input(name="amount", placeholder="Amount", id="withdraw-amount", width="240px"),
        rx.text("Network fee ", S.fee, " ", S.asset, " (deducted from the amount) · minimum ",
                S.minimum, " ", S.asset, " · ", S.limit, size="1", color_scheme="gray"),
        rx.input(name="code", placeholder="2FA code", id="withdraw-code", width="160px",
                 auto_complete="one-time-code"),
        rx.button("Withdraw", type="submit", id="withdraw-submit"),
        spacing="2",
    ), on_submit=S.request, key=S.request_form), width="100%")


def withdraw_page() -> rx.Component:
    S = WithdrawState
    return frame(S.access, rx.vstack(
        rx.heading("Withdraw ", S.asset, size="7"),
        asset_tabs(S.asset, S.assets, routes.WITHDRAW),
        messages(S.notice, S.error),
        _request_card(),
        _book_card(),
        rx.heading("Your withdrawals", size="4", as_="h2"),
        table(["Time", "Amount", "Recipient gets", "To", "Status", "Txid / reason", ""], S.rows,
              lambda r: [r["time"], r["amount"], r["receive"], rx.code(r["address"], size="1"),
                         rx.badge(r["status"], class_name="withdrawal-status"),
                         rx.text(r["txid"], r["reason"], size="1",
                                 class_name="withdrawal-detail"),
                         rx.cond(r["cancellable"] == "yes",
                                 rx.button("Cancel", size="1", variant="soft",
                                           color_scheme="red", class_name="withdrawal-cancel",
                                           on_click=S.cancel(r["id"])))],
              "withdrawal-row", "withdrawals-table",
              empty=("No withdrawals yet.", "Request one above, to an address from your "
                     "address book.")),
        spacing="4", width="100%",
    ))


# --- the emailed links -------------------------------------------------------------------------

class AddressConfirmState(rx.State):
    # checking | valid | done | invalid
    status: str = "checking"
    address: str = ""
    asset: str = ""

    @event
    def load(self) -> None:
        with db.read() as conn:
            entry = address_book.peek_token(conn, self._token())
        self.status = "valid" if entry else "invalid"
        self.address, self.asset = (entry.address, entry.asset) if entry else ("", "")

    def _token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @event
    def confirm(self) -> None:
        try:
            with db.write() as conn:
                address_book.confirm(conn, self._token())
        except WalletError:
            self.status = "invalid"
            return
        self.status = "done"


def address_confirm_page() -> rx.Component:
    S = AddressConfirmState
    return card(
        rx.heading("Confirm withdrawal address", size="6"),
        rx.match(
            S.status,
            ("valid", rx.vstack(
                rx.text("Add this ", S.asset, " address to your address book?"),
                rx.code(S.address, id="confirm-address"),
                rx.button("Confirm address", on_click=S.confirm, id="address-confirm"),
                spacing="3")),
            ("done", rx.callout("Address confirmed. It can be used once its security hold "
                                "has passed.", icon="circle-check", color_scheme="green",
                                id="address-confirmed")),
            ("invalid", rx.callout("This link is invalid, already used or expired.",
                                   icon="triangle-alert", color_scheme="red",
                                   id="address-confirm-bad")),
            rx.text("Checking your link…"),
        ),
        rx.link("Go to your wallet", href=routes.WALLET),
    )


class WithdrawConfirmState(rx.State):
    # checking | valid | confirmed | cancelled | invalid
    status: str = "checking"
    summary: str = ""

    def _token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @event
    def load(self) -> None:
        with db.read() as conn:
            found = withdrawals.by_token(conn, self._token())
            if found is not None:
                shown = assets(conn)[found.asset].format
                self.summary = (
                    f"{shown(found.amount)} {found.asset} to {found.address} (network fee "
                    f"{shown(found.fee)}; the recipient gets {shown(found.amount - found.fee)})")
        self.status = "valid" if found else "invalid"

    @event
    def confirm(self) -> None:
        try:
            with db.write() as conn:
                withdrawals.confirm(conn, self._token(), ip=client_ip(self))
        except WalletError:
            self.status = "invalid"
            return
        self.status = "confirmed"

    @event
    def cancel(self) -> None:
        try:
            with db.write() as conn:
                withdrawals.cancel_by_token(conn, self._token(), ip=client_ip(self))
        except WalletError:
            self.status = "invalid"
            return
        self.status = "cancelled"


def withdraw_confirm_page() -> rx.Component:
    S = WithdrawConfirmState
    return card(
        rx.heading("Confirm withdrawal", size="6"),
        rx.match(
            S.status,
            ("valid", rx.vstack(
                rx.text("You asked to withdraw:"),
                rx.text(S.summary, weight="bold", id="withdraw-summary"),
                rx.hstack(
                    rx.button("Confirm withdrawal", on_click=S.confirm, id="withdraw-confirm"),
                    rx.button("This wasn't me: cancel", on_click=S.cancel, color_scheme="red",
                              variant="soft", id="withdraw-cancel-link"),
                    spacing="3"),
                spacing="3")),
            ("confirmed", rx.callout("Confirmed. The withdrawal is now pending review; you "
                                     "will get an email at each step.", icon="circle-check",
                                     color_scheme="green", id="withdraw-confirmed")),
            ("cancelled", rx.callout("Cancelled. The funds are available in your account "
                                     "again. If this wasn't you, change your password now.",
                                     icon="circle-x", color_scheme="amber",
                                     id="withdraw-cancelled")),
            ("invalid", rx.callout("This link is invalid, already used or expired.",
                                   icon="triangle-alert", color_scheme="red",
                                   id="withdraw-confirm-bad")),
            rx.text("Checking your link…"),
        ),
        rx.link("Go to your wallet", href=routes.WALLET),
    )
