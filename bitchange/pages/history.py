"""Transaction history: deposits, withdrawals, trades, fees and transfers, filtered by type,
asset and date, with a CSV export of what the filters select."""

from __future__ import annotations

import reflex as rx

from bitchange.components.lists import choice_select, messages, table
from bitchange.components.wallet_frame import frame
from bitchange.state.history import HistoryState


def history_page() -> rx.Component:
    S = HistoryState
    return frame(S.access, rx.vstack(
        rx.heading("History", size="7"),
        rx.form(rx.hstack(
            choice_select(S.types, "type", "history-type", blank="All types"),
            choice_select(S.assets, "asset", "history-asset", blank="All assets"),
            rx.input(name="start", type="date", id="history-start"),
            rx.input(name="end", type="date", id="history-end"),
            rx.button("Filter", type="submit", id="history-filter"),
            rx.button(rx.icon("download", size=14), "CSV", type="button", variant="soft",
                      on_click=S.export, id="history-csv"),
            spacing="2", align="center", wrap="wrap",
        ), on_submit=S.apply, reset_on_submit=False),
        messages("", S.error),
        rx.text(S.count, " entries", size="1", color_scheme="gray", id="history-count"),
        table(["Time", "Type", "Asset", "Amount", "Status", "Detail", "Ref"], S.rows,
              lambda r: [r["time"], r["type"], r["asset"], r["amount"], r["status"],
                         rx.text(r["detail"], size="1"), r["ref"]],
              "history-row", "history-table",
              empty=("No activity to show.", "Deposits, trades, fees, transfers and "
                     "withdrawals appear here: widen the filters, or make a deposit to start.")),
        spacing="4", width="100%",
    ))
