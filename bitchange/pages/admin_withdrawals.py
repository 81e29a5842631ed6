"""Admin: the withdrawal review queue with risk context; approve (four-eyes above the
threshold), reject with a reason, mark sent with the txid. Every event re-checks the admin on
the server, and every action is audited by the wallet service."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.components.empty import empty_state
from bitchange.inputs import parse_id
from bitchange.pages.admin_users import admin_frame, gate
from bitchange.pages.wallet_common import messages, when
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event
from bitchange.trading.markets import assets, format_usdt
from bitchange.wallet import rules, withdrawals
from bitchange.wallet.errors import WalletError


class AdminWithdrawalsState(rx.State):
    access: str = "unknown"
    rows: list[dict[str, str]] = []
    four_eyes: str = ""
    notice: str = ""
    error: str = ""

    def _deny(self) -> None:
        self.access, self.rows = "denied", []

    def _load(self) -> None:
        with db.write() as conn:
            withdrawals.expire_stale(conn)
        with db.read() as conn:
            precisions = assets(conn)
            queue = withdrawals.review_queue(conn)
        rows = []
        for item in queue:
            w = item.withdrawal
            shown = precisions[w.asset].format
            approvals = ("needs 2 approvals" + (f"; 1st by {item.first_approver_email}"
                                                if item.first_approver_email else "")
                         if w.needs_two_approvals else "1 approval")
            rows.append({
                "id": str(w.id), "time": when(w.created_at), "email": item.email,
                "amount": f"{shown(w.amount)} {w.asset}",
                "fee": shown(w.fee), "address": w.address,
                "value": "unpriced" if w.value_usdt is None else format_usdt(
                    w.value_usdt) + " USDT",
                "status": w.label, "raw_status": w.status, "approvals": approvals,
                "age": f"account {item.account_age_days} days old",
                "security": item.security_change or "no recent security change",
                "address_age": f"address added {item.address_age_hours} h ago",
                "limit": f"{format_usdt(item.used_today_usdt)} of "
                         f"{format_usdt(item.daily_limit_usdt)} USDT used today",
                "history": f"{item.sent_before} earlier withdrawals sent",
                "events": " · ".join(item.events),
            })
        self.rows = rows
        self.four_eyes = format_usdt(rules.withdrawal_four_eyes())

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user, redirect = gate(self, routes.ADMIN_WITHDRAWALS)
        if user is None:
            self._deny()
            return redirect
        self.access = "admin"
        self._load()
        return None

    def _act(self, form: dict, action: str) -> None:
        admin = current_admin(self)
        if admin is None:
            self._deny()
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


def _hidden(r) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.el.input(type="hidden", name="id", value=r["id"])


def _item(r) -> rx.Component:  # type: ignore[no-untyped-def]
    S = AdminWithdrawalsState
    status = r["raw_status"]
    return rx.card(rx.vstack(
        rx.hstack(rx.text("#", r["id"], weight="bold"), rx.text(r["email"]),
                  rx.text(r["amount"], weight="bold"), rx.text("(", r["value"], ")"),
                  rx.badge(r["status"], class_name="review-status"),
                  rx.badge(r["approvals"], variant="outline"), spacing="3", wrap="wrap"),
        rx.text("to ", rx.code(r["address"], size="1"), " · fee ", r["fee"], " · ",
                r["time"], size="1"),
        rx.text(r["age"], " · ", r["security"], " · ", r["address_age"], " · ", r["limit"],
                " · ", r["history"], size="1", color_scheme="gray", class_name="risk"),
        rx.text(r["events"], size="1", color_scheme="gray"),
        rx.hstack(
            rx.cond(status == "pending_review", rx.form(
                _hidden(r), rx.button("Approve", size="1", type="submit",
                                      class_name="review-approve"),
                on_submit=S.approve)),
            rx.cond((status == "pending_review") | (status == "approved"), rx.form(rx.hstack(
                _hidden(r), rx.input(name="reason", placeholder="Reason for the user",
                                     size="1", class_name="review-reason"),
                rx.button("Reject", size="1", type="submit", color_scheme="red",
                          variant="soft", class_name="review-reject")),
                on_submit=S.reject, reset_on_submit=True)),
            rx.cond(status == "approved", rx.form(rx.hstack(
                _hidden(r), rx.input(name="txid", placeholder="Transaction id", size="1",
                                     width="420px", class_name="review-txid"),
                rx.button("Mark sent", size="1", type="submit", class_name="review-sent")),
                on_submit=S.mark_sent, reset_on_submit=True)),
            spacing="3", wrap="wrap",
        ),
        spacing="2", width="100%",
    ), width="100%", class_name="review-item", id="review-" + r["id"])


def admin_withdrawals() -> rx.Component:
    S = AdminWithdrawalsState
    return admin_frame(S.access, rx.vstack(
        rx.heading("Withdrawals", size="7"),
        rx.text("From ", S.four_eyes, " USDT a withdrawal needs two different admins. "
                "Pause switches are on the dashboard.", size="2", color_scheme="gray"),
        messages(S.notice, S.error),
        rx.foreach(S.rows, _item),
        empty_state(S.rows, "Nothing to review.", "Withdrawals confirmed by their owners wait "
                    "here for approval.", id_="review-empty"),
        spacing="3", width="100%",
    ))
