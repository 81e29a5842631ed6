"""The deposit page's state: the session user's address for an asset and their recent deposits
(`bitchange.wallet.views.deposit_view`, reading only). A user without an address for the
current key gets one from `assign_address`, which the page's load asks for once, and the page
offers as a button when that failed."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event
from bitchange.wallet import chains, deposits
from bitchange.wallet.errors import WalletError
from bitchange.wallet.views import deposit_view, page_asset


class DepositState(rx.State):
    access: str = "unknown"
    asset: str = "BTC"
    assets: list[str] = list(chains.SCHEMES)
    available: bool = False
    address: str = ""
    qr: str = ""
    network: str = ""
    reason: str = ""
    confirmations: int = 0
    rows: list[dict[str, str]] = []
    error: str = ""

    def _deny(self) -> None:
        self.access, self.address, self.qr, self.rows = "denied", "", "", []

    def _show(self, user_id: int) -> None:
        with db.read() as conn:
            view = deposit_view(conn, user_id, self.asset)
        self.access = "ok"
        self.available, self.address, self.qr = view.available, view.address, view.qr
        self.network, self.reason = view.network, view.reason
        self.confirmations, self.rows = view.confirmations, view.rows

    @event
    def load(self) -> rx.event.EventHandler | rx.event.EventSpec | None:
        self.error = ""
        wanted = self.router.url.query_parameters.get("asset", "BTC").upper()
        user = current_user(self)
        if user is None:
            self._deny()
            return navigate(routes.login(f"{routes.DEPOSIT}?asset={wanted}"))
        self.asset = page_asset(wanted)
        self._show(user.user_id)
        return DepositState.assign_address if self.available and not self.address else None

    @event
    def assign_address(self) -> rx.event.EventSpec | None:
        """Derive and store the user's address for the page's asset (once per key)."""
        user = current_user(self)
        if user is None:
            self._deny()
            return navigate(routes.login(f"{routes.DEPOSIT}?asset={self.asset}"))
        self.error = ""
        try:
            with db.write() as conn:
                deposits.deposit_address(conn, user.user_id, self.asset)
        except WalletError as exc:
            self.error = str(exc)
        self._show(user.user_id)
        return None
