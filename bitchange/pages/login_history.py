"""Login history: successful and failed attempts with time, IP and device."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.empty import empty_state
from bitchange.components.shell import page
from bitchange.state.security import LoginHistoryState


def login_history() -> rx.Component:
    return page(
        rx.heading("Login history", size="7", margin_bottom="0.5em"),
        rx.link("Back to the security centre", href=routes.SECURITY),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ["Time", "Result", "IP", "Device"]])),
            rx.table.body(rx.foreach(LoginHistoryState.rows, lambda r: rx.table.row(
                rx.table.cell(r["time"]),
                rx.table.cell(rx.badge(r["result"], color_scheme=rx.cond(
                    r["result"] == "success", "green", "red"))),
                rx.table.cell(r["ip"]), rx.table.cell(r["device"]),
                class_name="history-row"))),
            width="100%", margin_top="1em", id="history-table",
        ),
        empty_state(LoginHistoryState.rows, "No logins recorded yet.",
                    "Each login to your account, and each refused attempt, shows here.",
                    id_="history-table-empty"),
    )
