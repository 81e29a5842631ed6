import reflex as rx

from bitchange import routes
from bitchange.components.shell import page


def not_found() -> rx.Component:
    return page(
        rx.vstack(
            rx.heading("404 — page not found", size="7", id="not-found"),
            rx.text("There is nothing at this address.", color_scheme="gray"),
            rx.link(rx.button("Back to markets"), href=routes.MARKETS),
            spacing="4", align="center", padding_y="4em",
        )
    )
