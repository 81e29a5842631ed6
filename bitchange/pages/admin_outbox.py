"""Admin: the email outbox (bodies shown outside production)."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state
from bitchange.pages.admin_users import admin_frame
from bitchange.state.admin.outbox import AdminOutboxState


def _message(r) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.card(rx.vstack(
        rx.hstack(rx.badge(r["status"]), rx.text(r["subject"], weight="bold"),
                  rx.text("to ", r["to"], size="2", color_scheme="gray"),
                  rx.text(r["created"], size="1", color_scheme="gray"), spacing="3",
                  align="center"),
        rx.cond(r["error"] != "", rx.text(r["error"], size="1", color_scheme="red")),
        rx.cond(AdminOutboxState.show_bodies,
                rx.el.pre(r["body"], style={"white_space": "pre-wrap", "font_size": "12px"})),
        spacing="2", width="100%",
    ), width="100%", class_name="outbox-row")


def admin_outbox() -> rx.Component:
    return admin_frame(AdminOutboxState.access, rx.vstack(
        rx.heading("Outbox", size="7"),
        rx.text("The latest 100 emails. Without SMTP_HOST they are logged instead of sent.",
                size="2", color_scheme="gray"),
        rx.foreach(AdminOutboxState.rows, _message),
        empty_state(AdminOutboxState.rows, "No emails yet.",
                    "Sign-up confirmations, alerts and notices appear here as they are sent.",
                    id_="outbox-empty"),
        spacing="3", width="100%",
    ))
