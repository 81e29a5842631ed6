"""The history page's state: the session user's deposits, withdrawals, trades, fees and
transfers filtered by type, asset and date (`bitchange.wallet.views.history_view`), and the
CSV of what the filters select."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event
from bitchange.wallet import history
from bitchange.wallet.views import history_csv, history_view


class HistoryState(rx.State):
    access: str = "unknown"
    type: str = ""
    asset: str = ""
    start: str = ""
    end: str = ""
    assets: list[str] = []
    types: list[str] = history.TYPES
    rows: list[dict[str, str]] = []
    count: int = 0
    error: str = ""

    def _deny(self) -> None:
        self.access, self.rows = "denied", []

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            view = history_view(conn, user_id, self.type, self.asset, self.start, self.end)
        self.access, self.assets, self.rows = "ok", view.assets, view.rows
        self.count, self.error = view.count, view.error

    @event
    def load(self) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            self._deny()
            return navigate(routes.login(routes.HISTORY))
        self._refresh(user.user_id)
        return None

    @event
    def apply(self, form: dict) -> None:
        user = current_user(self)
        if user is None:
            self._deny()
            return
        self.type, self.asset = str(form.get("type", "")), str(form.get("asset", ""))
        self.start, self.end = str(form.get("start", ""))[:10], str(form.get("end", ""))[:10]
        self._refresh(user.user_id)

    @event
    def export(self) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            self._deny()
            return None
        try:
            with db.read() as conn:
                text = history_csv(conn, user.user_id, self.type, self.asset, self.start,
                                   self.end)
        except ValueError as exc:
            self.error = str(exc)
            return None
        return rx.download(data=text, filename="bitchange-history.csv", mime_type="text/csv")
