"""Admin: record confirmed on-chain deposits (credited at once, or after a second admin's
approval above the threshold), approve or reject those waiting, and see recent ones."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.inputs import InputError, parse_id, parse_whole
from bitchange.money import AmountError, parse_amount
from bitchange.pages.admin_users import admin_frame, gate
from bitchange.pages.wallet_common import messages, table, when
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event
from bitchange.trading.markets import assets, format_usdt
from bitchange.wallet import chains, deposits, rules
from bitchange.wallet.errors import WalletError


def _int(value: object, what: str) -> int:
    try:
        return parse_whole(value, what)
    except InputError as exc:
        raise WalletError(str(exc)) from None


class AdminDepositsState(rx.State):
    access: str = "unknown"
    assets: list[str] = list(chains.SCHEMES)
    pending: list[dict[str, str]] = []
    recent: list[dict[str, str]] = []
    threshold: str = ""
    notice: str = ""
    error: str = ""

    def _deny(self) -> None:
        self.access, self.pending, self.recent = "denied", [], []

    def _load(self) -> None:
        with db.read() as conn:
            precisions = assets(conn)
            rows = deposits.list_deposits(conn, limit=100)

        def view(d) -> dict[str, str]:  # type: ignore[no-untyped-def]
            return {"id": str(d.id), "time": when(d.created_at), "email": d.email,
                    "asset": d.asset, "amount": precisions[d.asset].format(d.amount),
                    "txid": f"{d.txid}:{d.vout}", "conf": str(d.confirmations),
                    "status": d.status.replace("_", " "), "by": d.recorded_by,
                    "value": "unpriced" if d.value_usdt is None else format_usdt(
                        d.value_usdt)}

        self.pending = [view(d) for d in rows if d.status == "pending_approval"]
        self.recent = [view(d) for d in rows if d.status != "pending_approval"][:50]
        self.threshold = format_usdt(rules.deposit_second_approval())

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user, redirect = gate(self, routes.ADMIN_DEPOSITS)
        if user is None:
            self._deny()
            return redirect
        self.access = "admin"
        self._load()
        return None

    @event
    def record(self, form: dict) -> None:
        admin = current_admin(self)
        if admin is None:
            self._deny()
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
        admin = current_admin(self)
        if admin is None:
            self._deny()
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


def _txid(txid: rx.Var) -> rx.Component:
    # A 64-character transaction id wraps anywhere, so it cannot push the "Recorded by" and
    # action columns out of the card.
    return rx.code(txid, size="1", word_break="break-all", max_width="18em",
                   display="inline-block")


def admin_deposits() -> rx.Component:
    S = AdminDepositsState
    form = rx.card(rx.form(rx.vstack(
        rx.heading("Record a confirmed deposit", size="4", as_="h2"),
        rx.hstack(
            rx.el.select(rx.foreach(S.assets, lambda a: rx.el.option(a, value=a)),
                         name="asset", id="deposit-asset"),
            rx.input(name="target", placeholder="Deposit address or user email",
                     id="deposit-target", width="380px"),
            rx.input(name="amount", placeholder="Amount", id="deposit-amount", width="160px"),
            spacing="2", wrap="wrap"),
        rx.hstack(
            rx.input(name="txid", placeholder="Transaction id", id="deposit-txid",
                     width="480px"),
            rx.input(name="vout", placeholder="Output index", id="deposit-vout",
                     width="110px"),
            rx.input(name="confirmations", placeholder="Confirmations",
                     id="deposit-confirmations", width="130px"),
            spacing="2", wrap="wrap"),
        rx.text("Recording the same (asset, txid, output) twice never credits twice. From ",
                S.threshold, " USDT (or without a price) a second admin must approve.",
                size="1", color_scheme="gray"),
        rx.button("Record deposit", type="submit", id="deposit-record"),
        spacing="2", width="100%",
    ), on_submit=S.record, reset_on_submit=False), width="100%")
    return admin_frame(S.access, rx.vstack(
        rx.heading("Deposits", size="7"),
        messages(S.notice, S.error),
        form,
        rx.heading("Waiting for a second approval", size="4", as_="h2"),
        table(["#", "Time", "User", "Amount", "Value (USDT)", "Tx", "Recorded by", ""],
              S.pending,
              lambda r: [r["id"], r["time"], r["email"], rx.text(r["amount"], " ", r["asset"]),
                         r["value"], _txid(r["txid"]), r["by"],
                         rx.hstack(
                             rx.button("Approve", size="1", on_click=S.approve(r["id"]),
                                       class_name="deposit-approve"),
                             rx.form(rx.hstack(
                                 rx.el.input(type="hidden", name="id", value=r["id"]),
                                 rx.input(name="reason", placeholder="Reason", size="1",
                                          width="8em"),
                                 rx.button("Reject", size="1", color_scheme="red",
                                           variant="soft", type="submit"), spacing="1"),
                                 on_submit=S.reject, reset_on_submit=True),
                             spacing="2", wrap="nowrap")],
              "pending-deposit-row", "pending-deposits",
              empty=("No deposits are waiting for a second approval.",
                     "Deposits from the threshold above wait here until another admin "
                     "approves or rejects them.")),
        rx.heading("Recent deposits", size="4", as_="h2"),
        table(["#", "Time", "User", "Amount", "Tx", "Conf.", "Status", "Recorded by"],
              S.recent,
              lambda r: [r["id"], r["time"], r["email"], rx.text(r["amount"], " ", r["asset"]),
                         _txid(r["txid"]), r["conf"], r["status"], r["by"]],
              "recent-deposit-row", "recent-deposits",
              empty=("No deposits recorded yet.",
                     "Record a confirmed on-chain deposit with the form above.")),
        spacing="4", width="100%",
    ))
