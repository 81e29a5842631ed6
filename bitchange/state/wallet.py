"""The wallet page's state: balances per asset and the estimated total, for the session's user
(`bitchange.wallet.views.wallet_view`), followed live as the user's balances move."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.state import live
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event
from bitchange.wallet.views import wallet_view


class WalletState(rx.State):
    access: str = "unknown"
    rows: list[dict[str, str]] = []
    total_usdt: str = ""
    unpriced: str = ""

    @event
    def load(self) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            self.access, self.rows, self.total_usdt = "denied", [], ""
            return navigate(routes.login(routes.WALLET))
        live.watch(self, live.for_user(WalletState._show), user_id=user.user_id,
                   activity=frozenset({live.LEDGER}))
        self._show(user.user_id)
        return None

    def _show(self, user_id: int) -> None:
        with db.read() as conn:
            view = wallet_view(conn, user_id)
        self.access = "ok"
        self.rows, self.total_usdt, self.unpriced = view.rows, view.total_usdt, view.unpriced
