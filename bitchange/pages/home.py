import reflex as rx

from bitchange import routes
from bitchange.components.shell import market_table, page
from bitchange.state.markets import MarketsState


def feature(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=24, color=rx.color("amber", 9)),
            rx.heading(title, size="4", as_="h3"),
            rx.text(text, color_scheme="gray", size="2"),
            spacing="2",
        ),
        width="100%",
    )


def home() -> rx.Component:
    return page(
        rx.vstack(
            rx.heading("Trade Bitcoin and Ether on an exchange that shows its books.", size="8"),
            rx.text(
                "BitChange is a spot cryptocurrency exchange. Every balance is backed by a "
                "double-entry ledger that is reconciled continuously, orders are matched by "
                "price and time, and withdrawals pass 2FA, email confirmation and review.",
                size="4", color_scheme="gray", max_width="760px",
            ),
            rx.hstack(
                rx.link(rx.button("View markets", size="3"), href=routes.MARKETS),
                rx.link(rx.button("Log in", size="3", variant="outline"), href=routes.LOGIN),
                spacing="3",
            ),
            spacing="4", padding_y="2em",
        ),
        rx.grid(
            feature("scale", "Integer-exact money",
                    "Balances are whole minor units, never floating point. Rounding always "
                    "favours keeping your funds intact."),
            feature("book-check", "Reconciled ledger",
                    "Every movement is a balanced journal entry; conservation is proven on a "
                    "schedule and on the operators' dashboard."),
            feature("shield-check", "Guarded accounts",
                    "Server-side sessions, two-factor authentication and alerts on new devices."),
            columns="3", spacing="4", width="100%",
        ),
        rx.heading("Markets", size="5", as_="h2", margin_top="2em", margin_bottom="0.75em"),
        market_table(MarketsState.rows, detailed=False),
    )
