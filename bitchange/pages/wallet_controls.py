"""The admin dashboard's withdrawal switches: pause or resume all withdrawals or one asset's.
Every event re-checks the admin on the server; changes are audited."""

from __future__ import annotations

import reflex as rx

from bitchange import db
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event
from bitchange.wallet import chains, controls


class WithdrawalSwitchState(rx.State):
    allowed: bool = False
    rows: list[dict[str, str]] = []
    error: str = ""

    def _load(self) -> None:
        with db.read() as conn:
            current = controls.pauses(conn)
        self.rows = []
        for scope in [controls.ALL, *chains.SCHEMES]:
            pause = current.get(scope)
            self.rows.append({"scope": scope,
                              "label": "All withdrawals" if scope == controls.ALL else scope,
                              "paused": "yes" if pause and pause.paused else "",
                              "reason": pause.reason if pause else ""})

    @event
    def load(self) -> None:
        self.allowed = current_admin(self) is not None
        if self.allowed:
            self._load()
        else:
            self.rows = []

    @event
    def toggle(self, form: dict) -> None:
        admin = current_admin(self)
        if admin is None:
            self.allowed, self.rows = False, []
            return
        scope = str(form.get("scope", ""))
        if scope != controls.ALL and scope not in chains.SCHEMES:
            self.error = "Unknown switch."
            return
        with db.read() as conn:
            current = controls.pauses(conn).get(scope)
        pause = not (current and current.paused)
        with db.write() as conn:
            controls.set_paused(conn, admin.user_id, scope, pause,
                                reason=str(form.get("reason", "")), ip=client_ip(self))
        self.error = ""
        self._load()


def withdrawal_switches_card() -> rx.Component:
    S = WithdrawalSwitchState
    return rx.card(rx.vstack(
        rx.heading("Withdrawals", size="4", as_="h2"),
        rx.foreach(S.rows, lambda r: rx.form(rx.hstack(
            rx.text(r["label"], width="130px", weight="bold"),
            rx.cond(r["paused"] == "yes",
                    rx.badge("paused", color_scheme="red"),
                    rx.badge("open", color_scheme="green")),
            rx.el.input(type="hidden", name="scope", value=r["scope"]),
            rx.cond(r["paused"] == "yes",
                    rx.text(r["reason"], size="1"),
                    rx.input(name="reason", placeholder="Reason", size="1", width="160px")),
            rx.button(rx.cond(r["paused"] == "yes", "Resume", "Pause"), size="1",
                      type="submit", variant="soft",
                      color_scheme=rx.cond(r["paused"] == "yes", "green", "red")),
            align="center", spacing="2",
        ), on_submit=S.toggle, reset_on_submit=True)),
        rx.cond(S.error != "", rx.text(S.error, color_scheme="red", size="1")),
        spacing="2", width="100%",
    ), width="100%", max_width="620px", on_mount=S.load, id="withdrawal-switches")
