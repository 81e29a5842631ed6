"""Admin: record confirmed on-chain deposits (credited at once, or after a second admin's
approval above the threshold), approve or reject those waiting."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.inputs import InputError, parse_id, parse_whole
from bitchange.money import AmountError, parse_amount
from bitchange.state.admin import AdminPage
from bitchange.state.auth import client_ip
from bitchange.state.events import event
from bitchange.trading.markets import assets
from bitchange.wallet import admin_views, chains, deposits
from bitchange.wallet.errors import WalletError


def _int(value: object, what: str) -> int:
    try:
        return parse_whole(value, what)
    except InputError as exc:
        raise WalletError(str(exc)) from None


class AdminDepositsState(AdminPage, rx.State):
    assets: list[str] = list(chains.SCHEMES)
    pending: list[dict[str, str]] = []
    recent: list[dict[str, str]] = []
    threshold: str = ""
    notice: str = ""
    error: str = ""

    def _clear(self) -> None:
        self.pending, self.recent = [], []

    def _load(self) -> None:
        with db.read() as conn:
            view = admin_views.deposits_page(conn)
        self.pending, self.recent, self.threshold = view.pending, view.recent, view.threshold

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user, redirect = self._open(routes.ADMIN_DEPOSITS)
        if user is None:
            return redirect
        self._load()
        return None

    @event
    def record(self, form: dict) -> None:
        admin = self._admin()
        if admin is None:
            return
        self.notice = self.error = ""
        try:
            asset = str(form.get("asset", "")).upper()
            with db.read() as conn:
                info = assets(conn).get(asset)
            if info is None:
                raise WalletError("Choose an asset.")
            amount = parse_amount(str(form.get("amount", "")), info.precision)
            target = str(form.get("target", "")).strip()
            with db.write() as conn:
                result = deposits.record(
                    conn, asset=asset, amount=amount, txid=str(form.get("txid", "")),
                    vout=_int(form.get("vout", ""), "The output index"),
                    confirmations=_int(form.get("confirmations", ""), "Confirmations"),
                    address="" if "@" in target else target,
                    user_email=target if "@" in target else "",
                    recorded_by=admin.user_id, ip=client_ip(self))
        except (AmountError, WalletError) as exc:
            self.error = str(exc)
            self._load()
            return
        if not result.created:
            self.error = (f"This output was already recorded (deposit #{result.deposit_id}, "
                          f"{result.status.replace('_', ' ')}); nothing was credited again.")
        elif result.status == "credited":
            self.notice = f"Deposit #{result.deposit_id} credited."
        else:
            self.notice = (f"Deposit #{result.deposit_id} recorded: a second admin must "
                           "approve it before it is credited.")
        self._load()

    @event
    def approve(self, deposit_id: str) -> None:
        self._decide(deposit_id, "")

    @event
    def reject(self, form: dict) -> None:
        self._decide(str(form.get("id", "")), str(form.get("reason", "")) or " ")

    def _decide(self, deposit_id: str, reject_reason: str) -> None:
        admin = self._admin()
        if admin is None:
            return
        self.notice = self.error = ""
        try:
            target = parse_id(deposit_id, "No such deposit.")
            with db.write() as conn:
                if reject_reason:
                    deposits.reject(conn, admin.user_id, target, reject_reason,
                                    ip=client_ip(self))
                    self.notice = f"Deposit #{target} rejected."
                else:
                    deposits.approve(conn, admin.user_id, target, ip=client_ip(self))
                    self.notice = f"Deposit #{target} approved and credited."
        except (WalletError, InputError) as exc:
            self.error = str(exc)
        self._load()
