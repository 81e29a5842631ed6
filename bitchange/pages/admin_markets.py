"""Admin dashboard card: markets (halt/resume, cancel every order of a market, edit fees and
filters)."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state
from bitchange.state.admin.markets import AdminMarketsState


def market_row(r: rx.Var) -> rx.Component:
    S = AdminMarketsState
    halted = r["status"] == "halted"  # type: ignore[index]
    return rx.table.row(
        rx.table.cell(rx.text(r["symbol"], weight="bold")),  # type: ignore[index]
        rx.table.cell(rx.badge(r["status"], color_scheme=rx.cond(halted, "red", "green"),  # type: ignore[index]
                               class_name="admin-market-status")),
        rx.table.cell(r["tick"]), rx.table.cell(r["lot"]), rx.table.cell(r["min_notional"]),  # type: ignore[index]
        rx.table.cell(r["maker"] + " / " + r["taker"]),  # type: ignore[index]
        rx.table.cell(r["open_orders"], class_name="admin-market-open"),  # type: ignore[index]
        rx.table.cell(r["pending_orders"], class_name="admin-market-pending"),  # type: ignore[index]
        rx.table.cell(rx.hstack(
            rx.cond(halted,
                    rx.button("Resume", size="1", variant="soft", color_scheme="green",
                              class_name="admin-market-resume",
                              on_click=S.set_status(r["symbol"], "active")),  # type: ignore[index]
                    rx.button("Halt", size="1", variant="soft", color_scheme="red",
                              class_name="admin-market-halt",
                              on_click=S.set_status(r["symbol"], "halted"))),  # type: ignore[index]
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(rx.button("Cancel orders", size="1", variant="soft",
                                                  color_scheme="orange",
                                                  class_name="admin-market-cancel-all")),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Cancel every open order in " + r["symbol"] + "?"),  # type: ignore[index]
                    rx.alert_dialog.description("Pending stop orders included. Funds held by "
                                                "those orders are released to their owners. "
                                                "This cannot be undone."),
                    rx.hstack(
                        rx.alert_dialog.cancel(rx.button("Keep them", variant="soft",
                                                         color_scheme="gray")),
                        rx.alert_dialog.action(rx.button(
                            "Cancel all orders", color_scheme="red",
                            class_name="admin-market-cancel-confirm",
                            on_click=S.cancel_market_orders(r["symbol"]))),  # type: ignore[index]
                        justify="end", spacing="3", margin_top="1em",
                    ),
                ),
            ),
            rx.button("Edit", size="1", variant="soft", class_name="admin-market-edit",
                      on_click=S.start_edit(r["symbol"])),  # type: ignore[index]
            spacing="2",
        )),
        class_name="admin-market-row",
    )


def rules_form() -> rx.Component:
    S = AdminMarketsState

    def box(label: rx.Var | str, name: str) -> rx.Component:
        return rx.vstack(rx.text(label, size="1", color_scheme="gray"),
                         rx.input(name=name, default_value=S.edit[name], size="1",
                                  id=f"rules-{name}"),
                         spacing="1")

    return rx.cond(S.editing != "", rx.form(
        rx.vstack(
            rx.text("Edit ", S.editing, weight="bold", size="2"),
            rx.hstack(
                box("Tick (" + S.edit["quote"] + ")", "tick"),
                box("Lot (" + S.edit["base"] + ")", "lot"),
                box("Min total (" + S.edit["quote"] + ")", "min_notional"),
                box("Maker fee (bps)", "maker"),
                box("Taker fee (bps)", "taker"),
                spacing="2", wrap="wrap",
            ),
            rx.hstack(rx.button("Save", type="submit", size="1", id="rules-save"),
                      rx.button("Close", type="button", size="1", variant="soft",
                                color_scheme="gray", on_click=S.cancel_edit),
                      spacing="2"),
            spacing="2",
        ),
        on_submit=S.save_rules, reset_on_submit=False, key=S.editing, id="rules-form",
    ))


def markets_card() -> rx.Component:
    S = AdminMarketsState
    return rx.card(
        rx.vstack(
            rx.heading("Markets", size="4", as_="h2"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
                    "Market", "Status", "Tick", "Lot", "Min total", "Fees (bps)",
                    "Open orders", "Pending stops", ""]])),
                rx.table.body(rx.foreach(S.rows, market_row)),
                size="1", width="100%", id="admin-markets",
            ),
            empty_state(S.rows, "No markets yet.", "Markets are created by `python -m "
                        "bitchange migrate` from the reference data.", id_="admin-markets-empty"),
            rules_form(),
            rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red",
                                              size="1", id="admin-markets-error")),
            rx.cond(S.notice != "", rx.callout(S.notice, icon="circle-check",
                                               color_scheme="green", size="1",
                                               id="admin-markets-notice")),
            spacing="3", width="100%",
        ),
        width="100%", max_width="900px",
    )
