"""The admin dashboard's withdrawal switches: pause or resume all withdrawals or one asset's
(`bitchange.wallet.controls.toggle`, audited). Every event re-checks the admin on the server."""

from __future__ import annotations

import reflex as rx

from bitchange import db
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event
from bitchange.wallet import admin_views, controls
from bitchange.wallet.errors import WalletError


class WithdrawalSwitchState(rx.State):
    allowed: bool = False
    rows: list[dict[str, str]] = []
    error: str = ""

    def _load(self) -> None:
        with db.read() as conn:
            self.rows = admin_views.switch_rows(conn)

    @event
    def load(self) -> None:
        self.allowed = current_admin(self) is not None
        if self.allowed:
            self._load()
        else:
            self.rows = []

    @event
    def toggle(self, form: dict) -> None:
        admin = current_admin(self)
        if admin is None:
            self.allowed, self.rows = False, []
            return
        try:
            with db.write() as conn:
                controls.toggle(conn, admin.user_id, str(form.get("scope", "")),
                                reason=str(form.get("reason", "")), ip=client_ip(self))
        except WalletError as exc:
            self.error = str(exc)
            return
        self.error = ""
        self._load()
