"""Admin: the email outbox. Outside production the bodies are shown, so a developer without
SMTP can click the links (verification, reset) that would have been emailed."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.components.empty import empty_state
from bitchange.config import get_settings
from bitchange.mail import outbox
from bitchange.pages.admin_users import admin_frame, gate
from bitchange.pages.security import when
from bitchange.state.events import event


class AdminOutboxState(rx.State):
    access: str = "unknown"
    show_bodies: bool = False
    rows: list[dict[str, str]] = []

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = gate(self, routes.ADMIN_OUTBOX)
        if user is None:
            self.access, self.rows = "denied", []
            return redirect
        self.access = "admin"
        # Bodies carry live tokens (reset links): never shown to anyone in production.
        self.show_bodies = not get_settings().is_production
        with db.read() as conn:
            rows = outbox.recent(conn)
        self.rows = [{"id": str(r.id), "to": r.to_addr, "subject": r.subject, "kind": r.kind,
                      "status": r.status, "attempts": str(r.attempts),
                      "created": when(r.created_at), "sent": when(r.sent_at),
                      "error": r.last_error,
                      "body": r.text_body if self.show_bodies else ""} for r in rows]
        return None


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
