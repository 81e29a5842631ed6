"""The Orders page `/orders`: open orders in every market (with cancel), the order history and
the user's trades, with filters and CSV export. Layout only; the state is
`bitchange.state.orders.OrdersState`."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.lists import messages, table
from bitchange.components.shell import page
from bitchange.pages.trade import MONO, side_badge
from bitchange.state.orders import OrdersState as S
from bitchange.trading.orders_view import ALL, STATUSES


def _select(name: str, everything: str, options, value) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.el.select(rx.el.option(everything, value=ALL), options, name=name,
                        id=f"orders-{name}", default_value=value)


def filters() -> rx.Component:
    status_names = {"open": "Open", "filled": "Filled", "cancelled": "Cancelled",
                    "expired": "Expired"}
    return rx.form(rx.flex(
        _select("market", "All markets",
                rx.foreach(S.markets, lambda m: rx.el.option(m, value=m)), S.market),
        _select("side", "Buy and sell", [rx.el.option("Buy", value="BUY"),
                                        rx.el.option("Sell", value="SELL")], S.side),
        _select("status", "Any status", [rx.el.option(status_names[s], value=s)
                                         for s in STATUSES], S.status),
        rx.hstack(rx.input(name="since", type="date", id="orders-since", aria_label="From"),
                  rx.text("to", size="1", color_scheme="gray"),
                  rx.input(name="until", type="date", id="orders-until", aria_label="To"),
                  spacing="1", align="center"),
        rx.button("Filter", type="submit", id="orders-filter"),
        spacing="2", align="center", wrap="wrap",
    ), on_submit=S.apply, reset_on_submit=False)


def _cells(row, keys: list[str]) -> list:  # type: ignore[no-untyped-def, type-arg]
    return [rx.text(row[k], style=MONO) for k in keys]


def open_orders() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(S.open_orders.length(), " open", size="1", color_scheme="gray",
                    id="orders-open-count"),
            rx.button("Cancel all", size="1", color_scheme="red", variant="soft",
                      id="orders-cancel-all", on_click=S.cancel_all,
                      disabled=S.open_orders.length() == 0),
            justify="between", align="center", width="100%",
        ),
        table(["Time", "Market", "Side", "Type", "Price", "Amount", "Filled", "Status", ""],
              S.open_orders,
              lambda r: [r["time"], rx.link(r["market"], href="/trade/" + r["market"]),
                         side_badge(r),
                         *_cells(r, ["kind", "price", "amount", "filled", "status"]),
                         rx.button("Cancel", size="1", variant="ghost", color_scheme="red",
                                   class_name="orders-cancel", on_click=S.cancel_order(r["id"]))],
              "orders-open-row", "orders-open",
              empty=("No open orders.", "Orders you place on a market's trading screen are "
                     "listed here until they fill or you cancel them.")),
        width="100%",
    )


def history() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.button(rx.icon("download", size=14), "Orders CSV", size="1",
                            variant="soft", on_click=S.export_orders, id="orders-csv"),
                  justify="end", width="100%"),
        table(["Time", "Market", "Side", "Type", "Price", "Amount", "Filled", "Avg. price",
               "Status"], S.history,
              lambda r: [r["time"], r["market"], side_badge(r),
                         *_cells(r, ["kind", "price", "amount", "filled", "average", "status"])],
              "orders-history-row", "orders-history",
              empty=("No orders match these filters.", "Widen the filters above.")),
        width="100%",
    )


def trades() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.button(rx.icon("download", size=14), "Trades CSV", size="1",
                            variant="soft", on_click=S.export_trades, id="trades-csv"),
                  justify="end", width="100%"),
        table(["Time", "Market", "Side", "Role", "Price", "Amount", "Total", "Fee"], S.trades,
              lambda r: [r["time"], r["market"], side_badge(r),
                         *_cells(r, ["role", "price", "amount", "total", "fee"])],
              "orders-trade-row", "orders-trades",
              empty=("No trades match these filters.", "Widen the filters above.")),
        width="100%",
    )


def orders_page() -> rx.Component:
    body = rx.vstack(
        rx.heading("Orders", size="7"),
        filters(),
        messages(S.notice, S.error),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Open orders", value="open", id="orders-tab-open"),
                rx.tabs.trigger("Order history", value="history", id="orders-tab-history"),
                rx.tabs.trigger("Trades", value="trades", id="orders-tab-trades"),
            ),
            rx.tabs.content(open_orders(), value="open", padding_top="0.75em"),
            rx.tabs.content(history(), value="history", padding_top="0.75em"),
            rx.tabs.content(trades(), value="trades", padding_top="0.75em"),
            default_value="open", width="100%",
        ),
        spacing="4", width="100%",
    )
    return page(rx.match(
        S.access,
        ("ok", body),
        ("denied", rx.callout(rx.hstack(rx.text("Log in to see your orders."),
                                        rx.link("Log in", href=routes.login(routes.ORDERS))),
                              icon="lock", id="orders-denied")),
        rx.text("Loading…", color_scheme="gray"),
    ))
