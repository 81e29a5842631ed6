"""Admin: record confirmed on-chain deposits, approve or reject those waiting for a second
admin, and see recent ones."""

from __future__ import annotations

import reflex as rx

from bitchange.components.lists import choice_select, messages, table
from bitchange.pages.admin_users import admin_frame
from bitchange.state.admin.deposits import AdminDepositsState


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
            choice_select(S.assets, "asset", "deposit-asset"),
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
