"""Admin: who is being rate limited (bitchange.ratelimits): key, limit, count and time."""

from __future__ import annotations

import reflex as rx

from bitchange import ratelimits, routes
from bitchange.state.admin import gate
from bitchange.state.auth import current_admin
from bitchange.state.events import event


class AdminRateLimitsState(rx.State):
    access: str = "unknown"
    rows: list[dict[str, str]] = []

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = gate(self, routes.ADMIN_RATE_LIMITS)
        if user is None:
            self.access, self.rows = "denied", []
            return redirect
        self.access = "admin"
        self.rows = ratelimits.admin_rows()
        return None

    @event
    def refresh(self) -> None:
        if current_admin(self) is None:
            self.access, self.rows = "denied", []
            return
        self.rows = ratelimits.admin_rows()
