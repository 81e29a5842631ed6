"""The transfer page's state: send to another BitChange user by email (2FA, limits, a note;
`bitchange.wallet.transfers.send`), and the form's assets and limit
(`bitchange.wallet.views.transfer_view`)."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.money import AmountError, parse_amount
from bitchange.state.auth import client_ip, current_user
from bitchange.state.events import event
from bitchange.state.page import UserPage
from bitchange.trading.markets import assets
from bitchange.wallet import transfers
from bitchange.wallet.errors import WalletError
from bitchange.wallet.views import transfer_view


class TransferState(UserPage, rx.State):
    assets: list[str] = []
    limit: str = ""

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            view = transfer_view(conn, user_id)
        self.assets, self.limit = view.assets, view.limit

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = self._open(routes.TRANSFER)
        if user is None:
            return redirect
        self._refresh(user.user_id)
        return None

    @event
    def send(self, form: dict) -> None:
        user = current_user(self)
        if user is None:
            self.access = "denied"
            return
        asset = str(form.get("asset", ""))
        self.notice = self.error = ""
        try:
            with db.read() as conn:
                info = assets(conn).get(asset)
            if info is None:
                raise WalletError("Choose an asset.")
            amount = parse_amount(str(form.get("amount", "")), info.precision)
            transfers.send(user.user_id, str(form.get("email", "")), asset, amount,
                           str(form.get("note", "")), str(form.get("code", "")),
                           ip=client_ip(self))
            self.notice = (f"Sent {info.format(amount)} {asset} to "
                           f"{str(form.get('email', '')).strip().lower()}.")
        except (AmountError, WalletError) as exc:
            self.error = str(exc)
        self._refresh(user.user_id)
