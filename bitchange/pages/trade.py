"""The trading screen `/trade/[symbol]`: chart, book, tape, order form, balances and orders.

Presentation only; the logic is in `bitchange.state.trade.TradeState`, the live updates in
`bitchange.state.live`.
"""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.alert_toast import alert_toast
from bitchange.components.candles import candles
from bitchange.components.empty import empty_state
from bitchange.components.shell import page
from bitchange.state.auth import SessionState
from bitchange.state.trade import TradeState as S
from bitchange.trading.candles import INTERVALS

UP = rx.color("grass", 11)
DOWN = rx.color("tomato", 11)
MONO = {"font_family": "var(--code-font-family, ui-monospace, monospace)",
        "font_variant_numeric": "tabular-nums"}


def panel(*children: rx.Component, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.box(
        *children,
        background_color=rx.color("gray", 2), border=f"1px solid {rx.color('gray', 4)}",
        border_radius="var(--radius-3)", padding="0.75em", width="100%", **props,
    )


def panel_title(text: str, *extra: rx.Component) -> rx.Component:
    return rx.hstack(rx.text(text, size="2", weight="bold", color_scheme="gray"), *extra,
                     justify="between", align="center", width="100%", margin_bottom="0.5em")


def stat(label: str, value: rx.Var | str, id_: str, color=None) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="2", weight="medium", id=id_, color=color, style=MONO),
        spacing="0",
    )


# --- header ---------------------------------------------------------------------------------


def market_header() -> rx.Component:
    change_color = rx.match(S.ticker["direction"], ("up", UP), ("down", DOWN),
                            rx.color("gray", 11))
    return panel(
        rx.hstack(
            rx.hstack(
                rx.heading(S.market, size="6", id="market-symbol"),
                rx.badge(S.info["status"], id="market-status",
                         color_scheme=rx.cond(S.info["status"] == "active", "green", "red")),
                align="center", spacing="3",
            ),
            rx.text(S.ticker["last"], size="6", weight="bold", id="last-price", color=change_color,
                    style=MONO),
            stat("24h change", S.ticker["change"], "ticker-change", change_color),
            stat("24h high", S.ticker["high"], "ticker-high"),
            stat("24h low", S.ticker["low"], "ticker-low"),
            stat("24h volume", S.ticker["volume"], "ticker-volume"),
            stat("Fees maker / taker", S.info["maker_fee"] + " / " + S.info["taker_fee"],
                 "ticker-fees"),
            spacing="6", align="center", wrap="wrap",
        ),
        rx.cond(S.info["status"] == "halted",
                rx.callout("Trading in this market is halted: new orders are refused; you can "
                           "still cancel.", icon="octagon-pause", color_scheme="red", size="1",
                           margin_top="0.5em", id="market-halted")),
    )


# --- chart ----------------------------------------------------------------------------------


def interval_button(interval: str) -> rx.Component:
    return rx.button(interval, size="1", id=f"interval-{interval}",
                     variant=rx.cond(S.interval == interval, "solid", "ghost"),
                     on_click=S.set_chart_interval(interval))


def chart_panel() -> rx.Component:
    return panel(
        panel_title("Chart", rx.hstack(*[interval_button(i) for i in INTERVALS], spacing="2")),
        candles(data=S.candles, tail=S.candle_tail, marks=S.trigger_marks,
                price_decimals=S.info["price_decimals"].to(int),
                height="380px", id="price-chart"),
    )


# --- order book and tape --------------------------------------------------------------------


def book_row(row: rx.Var, color: str, bar: str, css_class: str) -> rx.Component:
    return rx.hstack(
        rx.text(row["price"], color=color, flex="1"),
        rx.text(row["amount"], flex="1", text_align="right"),
        rx.text(row["total"], flex="1", text_align="right", color_scheme="gray"),
        width="100%", spacing="2", padding_x="0.25em", cursor="pointer", size="1",
        font_size="12px", class_name=css_class, style=MONO,
        background=f"linear-gradient(to left, {bar} " + row["depth"].to(str)  # type: ignore[index]
        + ", transparent " + row["depth"].to(str) + ")",  # type: ignore[index]
        _hover={"background_color": rx.color("gray", 4)},
        on_click=S.pick_price(row["p"]),  # type: ignore[index]
        title="Use this price",
    )


def book_header() -> rx.Component:
    return rx.hstack(
        rx.text("Price", flex="1"), rx.text("Amount", flex="1", text_align="right"),
        # A running sum of the amounts from the best price outwards, in the base asset.
        rx.text("Sum (", S.info["base"], ")", flex="1", text_align="right", id="book-sum-label"),
        width="100%", spacing="2", padding_x="0.25em", font_size="11px",
        color=rx.color("gray", 10),
    )


def order_book() -> rx.Component:
    return panel(
        panel_title("Order book"),
        book_header(),
        rx.vstack(
            rx.foreach(S.asks, lambda r: book_row(r, DOWN, "rgba(229,72,77,0.16)",
                                                  "book-row ask-row")),
            spacing="0", width="100%", id="book-asks", min_height="1em",
        ),
        rx.hstack(
            rx.text(S.ticker["last"], weight="bold", size="3", style=MONO),
            rx.text("spread ", S.spread, size="1", color_scheme="gray", id="spread"),
            justify="between", align="center", width="100%", padding_y="0.35em",
            border_top=f"1px solid {rx.color('gray', 4)}",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
        ),
        rx.vstack(
            rx.foreach(S.bids, lambda r: book_row(r, UP, "rgba(48,164,108,0.16)",
                                                  "book-row bid-row")),
            spacing="0", width="100%", id="book-bids", min_height="1em",
        ),
        empty_state([S.asks, S.bids], "No orders in the book yet.",
                    "Place a limit order to make the first price.", id_="book-empty"),
    )


def tape_row(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(row["price"], flex="1",
                color=rx.cond(row["side"] == "buy", UP, DOWN)),  # type: ignore[index]
        rx.text(row["amount"], flex="1", text_align="right"),
        rx.text(row["time"], flex="1", text_align="right", color_scheme="gray"),
        width="100%", spacing="2", padding_x="0.25em", font_size="12px", cursor="pointer",
        class_name="tape-row", style=MONO, on_click=S.pick_price(row["p"]),  # type: ignore[index]
    )


def recent_trades() -> rx.Component:
    return panel(
        panel_title("Recent trades"),
        rx.hstack(rx.text("Price", flex="1"), rx.text("Amount", flex="1", text_align="right"),
                  rx.text("Time (UTC)", flex="1", text_align="right"),
                  width="100%", spacing="2", padding_x="0.25em", font_size="11px",
                  color=rx.color("gray", 10)),
        rx.vstack(rx.foreach(S.tape, tape_row), spacing="0", width="100%", id="tape",
                  max_height="360px", overflow_y="auto"),
        empty_state(S.tape, "No trades yet.", "Trades in this market show here as they happen.",
                    id_="tape-empty"),
    )


# --- order form -----------------------------------------------------------------------------


def side_button(side: str, label: str, color: str) -> rx.Component:
    return rx.button(label, id=f"order-side-{side.lower()}", flex="1", size="2",
                     color_scheme=color, variant=rx.cond(S.side == side, "solid", "soft"),
                     on_click=S.set_side(side))


def kind_button(kind: str, label: str) -> rx.Component:
    return rx.button(label, id=f"order-kind-{kind}", size="1",
                     variant=rx.cond(S.kind == kind, "solid", "ghost"),
                     on_click=S.set_kind(kind))


def field(label: str, value: rx.Var, handler, unit: rx.Var, id_: str, error: rx.Var,  # type: ignore[no-untyped-def]
          **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.input(
            rx.input.slot(rx.text(unit, size="1", color_scheme="gray"), side="right"),
            value=value, on_change=handler, id=id_, size="2", width="100%",
            input_mode="decimal", auto_complete="off", style=MONO,
            color_scheme=rx.cond(error != "", "red", "gray"), **props,
        ),
        rx.cond(error != "", rx.text(error, size="1", color=DOWN, id=f"{id_}-error")),
        spacing="1", width="100%",
    )


def percent_buttons() -> rx.Component:
    return rx.hstack(
        *[rx.button(f"{p}%", size="1", variant="soft", color_scheme="gray", flex="1",
                    id=f"pct-{p}", on_click=S.pick_percent(p)) for p in (25, 50, 75, 100)],
        spacing="1", width="100%",
    )


def tif_button(tif: str) -> rx.Component:
    return rx.button(tif, size="1", id=f"order-tif-{tif.lower()}",
                     variant=rx.cond(S.tif == tif, "solid", "outline"),
                     color_scheme="gray", on_click=S.set_tif(tif))


def options_row() -> rx.Component:
    return rx.cond(
        S.kind == "limit",
        rx.hstack(
            rx.checkbox("Post-only", checked=S.post_only, on_change=S.set_post_only,
                        id="order-post-only", size="1"),
            rx.hstack(tif_button("GTC"), tif_button("IOC"), tif_button("FOK"), spacing="1"),
            justify="between", align="center", width="100%",
        ),
    )


def submit_area() -> rx.Component:
    label = rx.cond(S.side == "BUY", "Buy ", "Sell ") + S.info["base"]
    return rx.cond(
        S.signed_in,
        rx.cond(
            S.can_trade,
            rx.button(label, id="place-order", width="100%", size="3",
                      color_scheme=rx.cond(S.side == "BUY", "grass", "tomato"),
                      on_click=S.place_order),
            rx.callout(S.blocked_reason, icon="mail-warning", color_scheme="amber", size="1",
                       id="trade-blocked"),
        ),
        rx.link(rx.button("Log in to trade", width="100%", size="3", variant="outline"),
                href="/login?next=/trade/" + S.market, id="login-to-trade", width="100%"),
    )


PRICED = (S.kind == "limit") | (S.kind == "stop_limit") | (S.kind == "oco")
SPENDS = (S.kind == "market") | (S.kind == "stop_market") | (S.kind == "trailing")


def conditional_fields() -> rx.Component:
    """The stop (a trailing order's optional activation), the trailing distance and the OCO
    stop leg's limit, for the kinds that have them."""
    quote = S.info["quote"]
    return rx.vstack(
        rx.cond(
            (S.kind == "stop_limit") | (S.kind == "stop_market") | (S.kind == "oco")
            | (S.kind == "trailing"),
            field(rx.cond(S.kind == "trailing", "Activation price (optional)", "Stop"),  # type: ignore[arg-type]
                  S.stop, S.set_stop, quote, "order-stop", S.stop_error, placeholder="0"),
        ),
        rx.cond(S.kind == "oco",
                field("Stop limit", S.stop_limit, S.set_stop_limit, quote, "order-stop-limit",
                      S.stop_limit_error, placeholder="0")),
        rx.cond(S.kind == "trailing",
                field("Trail by", S.trail, S.set_trail, "%", "order-trail", S.trail_error,
                      placeholder="1")),
        spacing="3", width="100%",
    )


def order_form() -> rx.Component:
    return panel(
        rx.vstack(
            rx.hstack(side_button("BUY", "Buy", "grass"), side_button("SELL", "Sell", "tomato"),
                      spacing="2", width="100%"),
            rx.flex(kind_button("limit", "Limit"), kind_button("market", "Market"),
                    kind_button("stop_limit", "Stop-limit"),
                    kind_button("stop_market", "Stop-market"),
                    kind_button("trailing", "Trailing"), kind_button("oco", "OCO"),
                    spacing="2", wrap="wrap"),
            conditional_fields(),
            rx.cond(
                PRICED,
                field(rx.match(S.kind, ("stop_limit", "Limit price"),  # type: ignore[arg-type]
                               ("oco", "Take-profit price"), "Price"),
                      S.price, S.set_price, S.info["quote"], "order-price", S.price_error,
                      placeholder="0"),
                rx.text("Market orders fill at the best prices in the book.", size="1",
                        color_scheme="gray"),
            ),
            rx.cond(
                ~(SPENDS & (S.side == "BUY")),
                field("Amount", S.amount, S.set_amount, S.info["base"], "order-amount",
                      S.amount_error, placeholder="0"),
            ),
            rx.cond(S.signed_in, percent_buttons()),
            rx.cond(
                PRICED | (S.side == "BUY"),
                field(rx.cond(PRICED, "Total", "Spend"), S.total, S.set_total,  # type: ignore[arg-type]
                      S.info["quote"], "order-total", S.total_error, placeholder="0"),
            ),
            rx.cond(S.preview != "",
                    rx.text(S.preview, size="2", id="order-preview", weight="medium")),
            options_row(),
            rx.hstack(rx.text("Est. fee", size="1", color_scheme="gray"),
                      rx.text(S.est_fee, size="1", id="order-fee", style=MONO),
                      justify="between", width="100%"),
            rx.cond(S.signed_in, rx.hstack(
                rx.text("Available", size="1", color_scheme="gray"),
                rx.text(rx.cond(S.side == "BUY",
                                S.balances["quote_available"] + " " + S.info["quote"],
                                S.balances["base_available"] + " " + S.info["base"]),
                        size="1", id="order-available", style=MONO),
                justify="between", width="100%")),
            submit_area(),
            rx.cond(S.form_error != "",
                    rx.callout(S.form_error, icon="circle-alert", color_scheme="red", size="1",
                               id="order-error", width="100%")),
            rx.cond(S.notice != "",
                    rx.callout(S.notice, icon="circle-check", color_scheme="green", size="1",
                               id="order-notice", width="100%")),
            rx.text("Min. total ", S.info["min_notional"], " · tick ", S.info["tick"],
                    " · lot ", S.info["lot"], size="1", color_scheme="gray"),
            spacing="3", width="100%",
        ),
        id="order-form",
    )


def balances_panel() -> rx.Component:
    def line(asset: rx.Var, available: rx.Var, locked: rx.Var, key: str) -> rx.Component:
        return rx.hstack(
            rx.text(asset, weight="bold", size="2", width="4em"),
            rx.vstack(rx.text("Available", size="1", color_scheme="gray"),
                      rx.text(available, size="2", id=f"balance-{key}-available", style=MONO),
                      spacing="0", flex="1", align="end"),
            rx.vstack(rx.text("In orders", size="1", color_scheme="gray"),
                      rx.text(locked, size="2", id=f"balance-{key}-locked", style=MONO),
                      spacing="0", flex="1", align="end"),
            width="100%", align="center",
        )

    return rx.cond(S.signed_in, panel(
        panel_title("Balances"),
        rx.vstack(
            line(S.info["base"], S.balances["base_available"], S.balances["base_locked"], "base"),
            line(S.info["quote"], S.balances["quote_available"], S.balances["quote_locked"],
                 "quote"),
            spacing="2", width="100%",
        ),
        id="balances",
    ))


# --- the user's orders and trades -----------------------------------------------------------


def _cells(row: rx.Var, keys: list[str]) -> list[rx.Component]:
    return [rx.table.cell(row[k], style=MONO) for k in keys]  # type: ignore[index]


def side_badge(row: rx.Var) -> rx.Component:
    return rx.badge(row["side"], color_scheme=rx.cond(row["side"] == "buy", "grass", "tomato"))  # type: ignore[index]


def table(headers: list[str], body: rx.Component, id_: str) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        body, size="1", width="100%", id=id_,
    )


def open_orders_table() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(S.open_orders.length(), " open", size="1", color_scheme="gray"),
            rx.hstack(
                rx.button("Cancel all", size="1", color_scheme="red", variant="soft",
                          id="cancel-all", on_click=S.cancel_all,
                          disabled=S.open_orders.length() == 0),
                # Orders in other markets are not listed here, so this one is always enabled.
                rx.button("Cancel in all markets", size="1", color_scheme="red",
                          variant="outline", id="cancel-all-markets",
                          on_click=S.cancel_all_markets, disabled=~S.signed_in),
                spacing="2",
            ),
            justify="between", width="100%",
        ),
        table(["Time", "Side", "Type", "Trigger", "Price", "Amount", "Filled", "Status", ""],
              rx.table.body(rx.foreach(S.open_orders, lambda r: rx.table.row(
                  rx.table.cell(r["time"]), rx.table.cell(side_badge(r)),
                  *_cells(r, ["kind", "trigger", "price", "amount", "filled", "status"]),
                  rx.table.cell(rx.button("Cancel", size="1", variant="ghost", color_scheme="red",
                                          class_name="cancel-order",
                                          on_click=S.cancel_order(r["id"]))),
                  class_name="open-order-row"))),
              "open-orders"),
        empty_state(S.open_orders, "No open orders in this market.",
                    "Orders you place that wait in the book show here.",
                    id_="open-orders-empty"),
        width="100%",
    )


def history_table() -> rx.Component:
    orders = table(["Time", "Side", "Type", "Price", "Amount", "Filled", "Avg. price", "Status"],
                   rx.table.body(rx.foreach(S.history, lambda r: rx.table.row(
                       rx.table.cell(r["time"]), rx.table.cell(side_badge(r)),
                       *_cells(r, ["kind", "price", "amount", "filled", "average", "status"]),
                       class_name="history-row"))),
                   "order-history")
    return rx.fragment(orders, empty_state(
        S.history, "No orders yet.", "Your filled, cancelled and expired orders in this market "
        "show here.", id_="order-history-empty"))


def my_trades_table() -> rx.Component:
    trades = table(["Time", "Side", "Role", "Price", "Amount", "Total", "Fee"],
                   rx.table.body(rx.foreach(S.my_trades, lambda r: rx.table.row(
                       rx.table.cell(r["time"]), rx.table.cell(side_badge(r)),
                       *_cells(r, ["role", "price", "amount", "total", "fee"]),
                       class_name="my-trade-row"))),
                   "my-trades")
    return rx.fragment(trades, empty_state(
        S.my_trades, "No trades yet.", "Your fills in this market show here.",
        id_="my-trades-empty"))


def my_activity() -> rx.Component:
    return panel(rx.cond(
        S.signed_in,
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Open orders", value="open", id="tab-open"),
                rx.tabs.trigger("Order history", value="history", id="tab-history"),
                rx.tabs.trigger("My trades", value="trades", id="tab-trades"),
            ),
            rx.tabs.content(open_orders_table(), value="open", padding_top="0.5em"),
            rx.tabs.content(history_table(), value="history", padding_top="0.5em"),
            rx.tabs.content(my_trades_table(), value="trades", padding_top="0.5em"),
            default_value="open", width="100%",
        ),
        rx.hstack(
            rx.text("Log in to see your orders and trades.", size="2", color_scheme="gray"),
            rx.link("Log in", href="/login?next=/trade/" + S.market),
            spacing="2",
        ),
    ))


# --- the page -------------------------------------------------------------------------------


def unknown_market() -> rx.Component:
    return rx.callout(
        rx.hstack(rx.text("There is no such market."),
                  rx.link("See all markets", href=routes.MARKETS)),
        icon="circle-help", color_scheme="amber", id="unknown-market",
    )


# Below Reflex's `md` breakpoint (62em, 992 px) the grid has one column: there the order form
# comes first, then one of chart, book and trades (tabs), then balances and the user's orders.
# Wider screens keep their columns. The columns' boxes dissolve (`display: contents`) so that each
# panel is an item of the one-column grid and takes its place by `order`.
SMALL = "@media screen and (max-width: 61.99em)"
SMALL_TABS = ("chart", "book", "trades")


def slot(component: rx.Component, order: int, tab: str = "") -> rx.Component:
    small: dict = {"order": order}  # type: ignore[type-arg]
    if tab:
        small["display"] = rx.cond(S.small_panel == tab, "block", "none")
    return rx.box(component, width="100%", min_width="0", style={SMALL: small})


def column(*slots: rx.Component) -> rx.Component:
    return rx.vstack(*slots, spacing="3", width="100%", min_width="0",
                     style={SMALL: {"display": "contents"}})


def small_tabs() -> rx.Component:
    """Chart, book or trades on a small screen (hidden on wider ones, which show all three)."""
    return rx.hstack(
        *[rx.button(tab.capitalize(), size="2", flex="1", id=f"panel-{tab}",
                    variant=rx.cond(S.small_panel == tab, "solid", "soft"),
                    on_click=S.show_panel(tab)) for tab in SMALL_TABS],
        spacing="2", width="100%", display="none",
        style={SMALL: {"display": "flex", "order": 2}},
    )


def trade() -> rx.Component:
    return page(
        rx.cond(
            S.found,
            rx.vstack(
                market_header(),
                rx.grid(
                    column(slot(chart_panel(), 3, "chart"), slot(my_activity(), 7)),
                    column(slot(order_book(), 4, "book"), slot(recent_trades(), 5, "trades")),
                    column(slot(order_form(), 1), slot(balances_panel(), 6)),
                    small_tabs(),
                    columns=rx.breakpoints(initial="1", md="2", lg="minmax(0,1fr) 300px 300px"),
                    spacing="3", width="100%",
                ),
                rx.cond(~SessionState.signed_in,
                        rx.text("Prices update live. Log in to place orders.", size="1",
                                color_scheme="gray")),
                alert_toast(),
                spacing="3", width="100%",
            ),
            unknown_market(),
        ),
        max_width="1600px",
    )
