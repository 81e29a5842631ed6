"""Admin: the withdrawal review queue with risk context; approve, reject with a reason, mark
sent with the txid."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state
from bitchange.components.lists import messages
from bitchange.pages.admin_users import admin_frame
from bitchange.state.admin.withdrawals import AdminWithdrawalsState


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
