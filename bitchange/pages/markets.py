import reflex as rx

from bitchange.components.shell import market_table, page
from bitchange.state.markets import MarketsState


def markets() -> rx.Component:
    return page(
        rx.heading("Markets", size="7", margin_bottom="0.5em"),
        rx.text("Spot markets. Prices and 24h figures appear once trades happen.",
                color_scheme="gray", margin_bottom="1em"),
        market_table(MarketsState.rows, detailed=True),
    )
