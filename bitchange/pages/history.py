"""Transaction history: deposits, withdrawals, trades, fees and transfers, filtered by type,
asset and date, with a CSV export of what the filters select."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.clock import when
from bitchange.components.lists import messages, table
from bitchange.components.wallet_frame import frame
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event
from bitchange.trading.markets import assets
from bitchange.wallet import history

SHOWN = 300


class HistoryState(rx.State):
    access: str = "unknown"
    type: str = ""
    asset: str = ""
    start: str = ""
    end: str = ""
    assets: list[str] = []
    types: list[str] = history.TYPES
    rows: list[dict[str, str]] = []
    count: int = 0
    error: str = ""

    def _filters(self) -> history.Filters:
        return history.Filters(
            type=self.type if self.type in history.TYPES else "",
            asset=self.asset if self.asset in self.assets else "",
            start=history.parse_day(self.start), end=history.parse_day(self.end))

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            precisions = assets(conn)
            self.assets = list(precisions)
            try:
                found = history.entries(conn, user_id, self._filters())
                self.error = ""
            except ValueError as exc:
                found, self.error = [], str(exc)
        self.access, self.count = "ok", len(found)
        self.rows = [{
            "time": when(e.time), "type": e.type, "asset": e.asset,
            "amount": ("-" if e.amount < 0 else "+") + precisions[e.asset].format(
                abs(e.amount)),
            "status": e.status, "detail": e.detail, "ref": e.ref,
        } for e in found[:SHOWN]]

    @event
    def load(self) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            self.access, self.rows = "denied", []
            return navigate(routes.login(routes.HISTORY))
        self._refresh(user.user_id)
        return None

    @event
    def apply(self, form: dict) -> None:
        user = current_user(self)
        if user is None:
            self.access, self.rows = "denied", []
            return
        self.type, self.asset = str(form.get("type", "")), str(form.get("asset", ""))
        self.start, self.end = str(form.get("start", ""))[:10], str(form.get("end", ""))[:10]
        self._refresh(user.user_id)

    @event
    def export(self) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            self.access, self.rows = "denied", []
            return None
        try:
            with db.read() as conn:
                text = history.to_csv(conn, history.entries(conn, user.user_id,
                                                            self._filters()))
        except ValueError as exc:
            self.error = str(exc)
            return None
        return rx.download(data=text, filename="bitchange-history.csv", mime_type="text/csv")


def history_page() -> rx.Component:
    S = HistoryState
    return frame(S.access, rx.vstack(
        rx.heading("History", size="7"),
        rx.form(rx.hstack(
            rx.el.select(rx.el.option("All types", value=""),
                         rx.foreach(S.types, lambda t: rx.el.option(t, value=t)),
                         name="type", id="history-type"),
            rx.el.select(rx.el.option("All assets", value=""),
                         rx.foreach(S.assets, lambda a: rx.el.option(a, value=a)),
                         name="asset", id="history-asset"),
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
