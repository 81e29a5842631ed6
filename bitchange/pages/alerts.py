"""Price alerts: "tell me when BTC-USDT trades at or above / at or below X"; list and delete."""

from __future__ import annotations

import reflex as rx

from bitchange.components.alert_toast import alert_toast
from bitchange.components.shell import page
from bitchange.state.alerts import AlertsState


def _row(a) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.table.row(
        rx.table.cell(a["symbol"]), rx.table.cell(a["when"]), rx.table.cell(a["price"]),
        rx.table.cell(a["status"], class_name="alert-status"), rx.table.cell(a["created"]),
        rx.table.cell(rx.button("Delete", size="1", color_scheme="red", variant="soft",
                                on_click=AlertsState.remove(a["id"]),
                                class_name="alert-delete")),
        class_name="alert-row",
    )


def alerts_page() -> rx.Component:
    S = AlertsState
    form = rx.form(rx.hstack(
        rx.text("Tell me when", size="2"),
        rx.select(S.markets, name="symbol", default_value="BTC-USDT", id="alert-symbol"),
        rx.text("trades", size="2"),
        rx.select.root(rx.select.trigger(id="alert-direction"), rx.select.content(
            rx.select.item("at or above", value="above"),
            rx.select.item("at or below", value="below")),
            name="direction", default_value="above"),
        rx.input(name="price", placeholder="Price", id="alert-price", width="140px"),
        rx.button("Set alert", type="submit", id="alert-submit"),
        align="center", wrap="wrap", spacing="2",
    ), on_submit=S.create, reset_on_submit=True)
    return page(rx.cond(
        S.access == "ok",
        rx.vstack(
            rx.heading("Price alerts", size="7"),
            rx.text("An alert fires once, on the first trade at or beyond its price: by email "
                    "and on any screen you have open.", size="2", color_scheme="gray"),
            rx.cond(S.notice != "", rx.callout(S.notice, icon="info", id="alerts-notice")),
            rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert",
                                              color_scheme="red", id="alerts-error")),
            rx.card(form, width="100%"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
                    "Market", "When it trades", "Price", "Status", "Set", ""]])),
                rx.table.body(rx.foreach(S.rows, _row)),
                width="100%", size="1", id="alerts-table",
            ),
            alert_toast(),
            spacing="4", width="100%",
        ),
        rx.text("Loading…", color_scheme="gray"),
    ))
