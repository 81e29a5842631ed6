"""The promo code page's state: redeem a code (`bitchange.promos.service.redeem_code`,
throttled), and the codes the session user redeemed (`bitchange.promos.views`)."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.promos import service as promos
from bitchange.promos.views import redeemed_notice, redemption_rows
from bitchange.state.auth import client_ip, current_user, navigate
from bitchange.state.events import event
from bitchange.state.page import UserPage


class PromosState(UserPage, rx.State):
    history: list[dict[str, str]] = []

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            self.history = redemption_rows(conn, user_id)

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = self._open(routes.PROMOS)
        if user is None:
            return redirect
        self._refresh(user.user_id)
        return None

    @event
    def redeem(self, form: dict) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            return navigate(routes.login(routes.PROMOS))
        self.error = self.notice = ""
        try:
            result = promos.redeem_code(user.user_id, str(form.get("code", ""))[:64],
                                        ip=client_ip(self))
            with db.read() as conn:
                self.notice = redeemed_notice(conn, result)
        except promos.PromoError as exc:
            self.error = str(exc)
        self._refresh(user.user_id)
        return None
