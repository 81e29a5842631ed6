"""Promo codes for users: redeem a code, see what you redeemed."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.clock import when
from bitchange.components.empty import empty_state
from bitchange.components.shell import page
from bitchange.promos import service as promos
from bitchange.state.auth import client_ip, current_user, navigate
from bitchange.state.events import event
from bitchange.trading.markets import assets


class PromosState(rx.State):
    access: str = "unknown"
    history: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            precisions = assets(conn)
            self.history = [{"code": r.code, "time": when(r.created_at),
                             "amount": precisions[r.asset].format(r.amount),
                             "asset": r.asset}
                            for r in promos.redemptions(conn, user_id=user_id, limit=50)]

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.error = self.notice = ""
        user = current_user(self)
        if user is None:
            self.access = "denied"
            return navigate(routes.login(routes.PROMOS))
        self.access = "ok"
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
                shown = assets(conn)[result.asset].format(result.amount)
            self.notice = (f"Done: {shown} {result.asset} "
                           "was added to your available balance.")
        except promos.PromoError as exc:
            self.error = str(exc)
        self._refresh(user.user_id)
        return None


def promos_page() -> rx.Component:
    S = PromosState
    body = rx.vstack(
        rx.heading("Promo codes", size="7"),
        rx.form(rx.hstack(
            rx.input(name="code", placeholder="Enter a code", id="promo-code", width="240px"),
            rx.button("Redeem", type="submit", id="promo-submit"),
        ), on_submit=S.redeem, reset_on_submit=True),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="gift", color_scheme="green",
                                           id="promo-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="promo-error")),
        rx.heading("Redeemed", size="4"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
                "Code", "Reward", "When"]])),
            rx.table.body(rx.foreach(S.history, lambda r: rx.table.row(
                rx.table.cell(r["code"]), rx.table.cell(r["amount"], " ", r["asset"]),
                rx.table.cell(r["time"]), class_name="promo-row"))),
            width="100%", max_width="640px", size="1",
        ),
        empty_state(S.history, "You have not redeemed a code yet.",
                    "Enter a promo code above to add its reward to your balance.",
                    id_="promo-history-empty"),
        spacing="4", width="100%",
    )
    return page(rx.cond(S.access == "ok", body, rx.text("Loading…", color_scheme="gray")))
