"""Admin: the withdrawal review queue; approve (four-eyes above the threshold), reject with a
reason, mark sent with the txid. Every event re-checks the admin on the server, and every
action is audited by the wallet service."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.inputs import parse_id
from bitchange.state.admin import AdminPage
from bitchange.state.auth import client_ip
from bitchange.state.events import event
from bitchange.wallet import admin_views, withdrawals
from bitchange.wallet.errors import WalletError


class AdminWithdrawalsState(AdminPage, rx.State):
    rows: list[dict[str, str]] = []
    four_eyes: str = ""
    notice: str = ""
    error: str = ""

    def _clear(self) -> None:
        self.rows = []

    def _load(self) -> None:
        with db.read() as conn:
            self.rows = admin_views.review_rows(conn)
        self.four_eyes = admin_views.four_eyes_threshold()

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user, redirect = self._open(routes.ADMIN_WITHDRAWALS)
        if user is None:
            return redirect
        self._load()
        return None

    def _act(self, form: dict, action: str) -> None:
        admin = self._admin()
        if admin is None:
            return
        self.notice = self.error = ""
        try:
            target = parse_id(form.get("id"))
        except ValueError:
            self.error = "No such withdrawal."
            return
        ip = client_ip(self)
        try:
            with db.write() as conn:
                if action == "approve":
                    outcome = withdrawals.approve(conn, admin.user_id, target, ip=ip)
                    self.notice = f"Withdrawal #{target}: {outcome}."
                elif action == "reject":
                    withdrawals.reject(conn, admin.user_id, target,
                                       str(form.get("reason", "")), ip=ip)
                    self.notice = f"Withdrawal #{target} rejected; funds released."
                else:
                    withdrawals.mark_sent(conn, admin.user_id, target,
                                          str(form.get("txid", "")), ip=ip)
                    self.notice = f"Withdrawal #{target} marked sent."
        except WalletError as exc:
            self.error = str(exc)
        self._load()

    @event
    def approve(self, form: dict) -> None:
        self._act(form, "approve")

    @event
    def reject(self, form: dict) -> None:
        self._act(form, "reject")

    @event
    def mark_sent(self, form: dict) -> None:
        self._act(form, "mark_sent")
