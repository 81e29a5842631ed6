"""The admin dashboard's withdrawal switches: pause or resume all withdrawals or one asset's.
Every event re-checks the admin on the server; changes are audited."""

from __future__ import annotations

import reflex as rx

from bitchange.state.wallet_controls import WithdrawalSwitchState


def withdrawal_switches_card() -> rx.Component:
    S = WithdrawalSwitchState
    return rx.card(rx.vstack(
        rx.heading("Withdrawals", size="4", as_="h2"),
        rx.foreach(S.rows, lambda r: rx.form(rx.hstack(
            rx.text(r["label"], width="130px", weight="bold"),
            rx.cond(r["paused"] == "yes",
                    rx.badge("paused", color_scheme="red"),
                    rx.badge("open", color_scheme="green")),
            rx.el.input(type="hidden", name="scope", value=r["scope"]),
            rx.cond(r["paused"] == "yes",
                    rx.text(r["reason"], size="1"),
                    rx.input(name="reason", placeholder="Reason", size="1", width="160px")),
            rx.button(rx.cond(r["paused"] == "yes", "Resume", "Pause"), size="1",
                      type="submit", variant="soft",
                      color_scheme=rx.cond(r["paused"] == "yes", "green", "red")),
            align="center", spacing="2",
        ), on_submit=S.toggle, reset_on_submit=True)),
        rx.cond(S.error != "", rx.text(S.error, color_scheme="red", size="1")),
        spacing="2", width="100%",
    ), width="100%", max_width="620px", on_mount=S.load, id="withdrawal-switches")
