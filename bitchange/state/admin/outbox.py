"""Admin: the email outbox. Outside production the bodies are shown, so a developer without
SMTP can click the links (verification, reset) that would have been emailed."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.config import get_settings
from bitchange.mail import admin_views
from bitchange.state.admin import AdminPage
from bitchange.state.events import event


class AdminOutboxState(AdminPage, rx.State):
    show_bodies: bool = False
    rows: list[dict[str, str]] = []

    def _clear(self) -> None:
        self.rows = []

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = self._open(routes.ADMIN_OUTBOX)
        if user is None:
            return redirect
        # Bodies carry live tokens (reset links): never shown to anyone in production.
        self.show_bodies = not get_settings().is_production
        with db.read() as conn:
            self.rows = admin_views.outbox_rows(conn, show_bodies=self.show_bodies)
        return None
