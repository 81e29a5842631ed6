"""Price alerts: the alerts page (set, list, delete) and the toast an open screen shows when
one fires (pushed by the live watcher, `live.ALERTS`). The user comes from the session."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts.sessions import CurrentUser
from bitchange.accounts.users import AccountError
from bitchange.alerts import service as alerts
from bitchange.clock import when
from bitchange.inputs import InputError, parse_id
from bitchange.state import live
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event
from bitchange.trading.markets import list_markets


def _rows(user_id: int) -> list[dict[str, str]]:
    with db.read() as conn:
        return [{"id": str(a.id), "symbol": a.symbol,
                 "when": alerts.DIRECTIONS[a.direction], "price": a.price,
                 "status": f"fired at {a.fired_price}, {when(a.fired_at)}" if a.fired_at
                 else "waiting", "created": when(a.created_at)}
                for a in alerts.list_alerts(conn, user_id)]


def _show_rows(state: AlertsState, user_id: int) -> None:
    state.rows = _rows(user_id)


class AlertsState(rx.State):
    access: str = "unknown"
    rows: list[dict[str, str]] = []
    markets: list[str] = []
    notice: str = ""
    error: str = ""

    def _user(self) -> CurrentUser | None:
        user = current_user(self)
        if user is None:
            self.access, self.rows = "denied", []
        return user

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user = self._user()
        if user is None:
            return navigate(routes.login(routes.ALERTS))
        live.watch(self, live.for_user(_show_rows), user_id=user.user_id,
                   activity=frozenset({live.ALERTS}))
        with db.read() as conn:
            self.markets = [m.symbol for m in list_markets(conn)]
        self.access, self.rows = "ok", _rows(user.user_id)
        return None

    @event
    def create(self, form: dict) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                alerts.create(conn, user.user_id, str(form.get("symbol", "")),
                              str(form.get("direction", "")), str(form.get("price", "")))
        except AccountError as exc:
            self.notice, self.error = "", str(exc)
            return
        self.notice, self.error, self.rows = "Alert set.", "", _rows(user.user_id)

    @event
    def remove(self, alert_id: int) -> None:
        user = self._user()
        if user is None:
            return
        try:
            with db.write() as conn:
                alerts.remove(conn, user.user_id, parse_id(alert_id))
        except (AccountError, InputError) as exc:
            self.notice, self.error = "", str(exc)
            return
        self.notice, self.error, self.rows = "Alert deleted.", "", _rows(user.user_id)


class AlertToastState(rx.State):
    """On an open screen (the trading screen, the alerts page): what fired since it opened."""

    messages: list[str] = []
    _mark: int = 0  # the newest firing (a trade id) already told

    @event
    def load(self) -> None:
        self.messages = []
        user = current_user(self)
        if user is None:
            live.unwatch(self)
            return
        live.watch(self, AlertToastState._pushed, user_id=user.user_id,
                   activity=frozenset({live.ALERTS}))
        with db.read() as conn:
            self._mark = alerts.newest_fired(conn)

    def _pushed(self, news: live.News) -> None:
        user = current_user(self, active=False)
        if user is None:
            return
        with db.read() as conn:
            told = alerts.fired_since(conn, user.user_id, self._mark)
            self._mark = alerts.newest_fired(conn)
        self.messages = [*self.messages, *told][-5:]

    @event
    def dismiss(self) -> None:
        self.messages = []
