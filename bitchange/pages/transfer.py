"""Internal transfer to another BitChange user by email: 2FA, limits, a note; instant."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.components.lists import messages
from bitchange.components.wallet_frame import frame
from bitchange.money import AmountError, parse_amount
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event
from bitchange.trading.markets import assets, format_usdt
from bitchange.wallet import transfers
from bitchange.wallet.errors import WalletError


class TransferState(rx.State):
    access: str = "unknown"
    assets: list[str] = []
    limit: str = ""
    notice: str = ""
    error: str = ""

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            self.assets = list(assets(conn))
            used = transfers.used_today(conn, user_id)
            limit = transfers.daily_limit(conn, user_id)
        self.access = "ok"
        self.limit = f"{format_usdt(used)} of {format_usdt(limit)} USDT used in the last 24h"

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user = current_user(self)
        if user is None:
            self.access = "denied"
            return navigate(routes.login(routes.TRANSFER))
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
                           str(form.get("note", "")), str(form.get("code", "")))
            self.notice = (f"Sent {info.format(amount)} {asset} to "
                           f"{str(form.get('email', '')).strip().lower()}.")
        except (AmountError, WalletError) as exc:
            self.error = str(exc)
        self._refresh(user.user_id)


def transfer_page() -> rx.Component:
    S = TransferState
    return frame(S.access, rx.vstack(
        rx.heading("Transfer to a BitChange user", size="7"),
        messages(S.notice, S.error),
        rx.card(rx.form(rx.vstack(
            rx.input(name="email", placeholder="Recipient's email", id="transfer-email",
                     width="100%", max_width="320px"),
            rx.hstack(rx.el.select(rx.foreach(S.assets, lambda a: rx.el.option(a, value=a)),
                                   name="asset", id="transfer-asset"),
                      rx.input(name="amount", placeholder="Amount", id="transfer-amount"),
                      wrap="wrap"),
            rx.input(name="note", placeholder="Note (optional, shown to both of you)",
                     id="transfer-note", width="100%", max_width="420px", max_length=140),
            rx.input(name="code", placeholder="2FA code", id="transfer-code", width="160px",
                     auto_complete="one-time-code"),
            rx.text("Transfers are instant and cannot be reversed. ", S.limit, size="1",
                    color_scheme="gray"),
            rx.button("Send", type="submit", id="transfer-submit"),
            spacing="2", width="100%",
        ), on_submit=S.send, reset_on_submit=True)),
        spacing="4", width="100%",
    ))
