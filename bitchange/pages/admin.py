"""The operators' dashboard. Access is decided on the server for every event."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.components.shell import page
from bitchange.ledger import reconcile
from bitchange.money import format_amount
from bitchange.state.auth import current_user, navigate
from bitchange.trading.markets import assets


class AdminState(rx.State):
    # "unknown" until the server has decided; then "admin" or "denied".
    access: str = "unknown"
    reconcile_ok: bool = False
    reconcile_summary: str = ""
    reconcile_lines: list[str] = []
    totals: list[dict[str, str]] = []

    def _deny(self) -> None:
        self.access = "denied"
        self.reconcile_ok, self.reconcile_summary = False, ""
        self.reconcile_lines, self.totals = [], []

    def _is_admin(self) -> bool:
        user = current_user(self)
        return bool(user and user.is_admin)

    @rx.event
    def load(self) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            self._deny()
            return navigate(routes.login(routes.ADMIN))
        if not user.is_admin:
            self._deny()
            return None
        self.access = "admin"
        self._run_reconcile()
        return None

    @rx.event
    def run_reconcile(self) -> None:
        if not self._is_admin():
            self._deny()
            return
        self._run_reconcile()

    def _run_reconcile(self) -> None:
        with db.read() as conn:
            report = reconcile(conn)
            precisions = assets(conn)
        self.reconcile_ok = report.ok
        self.reconcile_summary = report.summary().splitlines()[0] if report.ok else (
            f"{len(report.discrepancies)} discrepancies found")
        self.reconcile_lines = [] if report.ok else report.summary().splitlines()
        external = _external_totals()
        self.totals = [
            {"asset": code, "deposited": format_amount(external.get(code, 0), info.precision)}
            for code, info in precisions.items()
        ]


def _external_totals() -> dict[str, int]:
    """Net funds that came in from the outside world, per asset (deposits minus withdrawals)."""
    from bitchange.ledger import EXTERNAL, balances_of, system_account

    with db.read() as conn:
        return {asset: -(available + locked) for asset, (available, locked)
                in balances_of(conn, system_account(conn, EXTERNAL)).items()}


def reconcile_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Ledger reconciliation", size="4", as_="h2"),
                rx.cond(AdminState.reconcile_ok,
                        rx.badge("Balanced", color_scheme="green", id="reconcile-status"),
                        rx.badge("Discrepancies", color_scheme="red", id="reconcile-status")),
                justify="between", width="100%",
            ),
            rx.text(AdminState.reconcile_summary, size="2", id="reconcile-summary"),
            rx.foreach(AdminState.reconcile_lines,
                       lambda line: rx.code(line, color_scheme="red")),
            rx.table.root(
                rx.table.header(rx.table.row(rx.table.column_header_cell("Asset"),
                                             rx.table.column_header_cell("Net deposits"))),
                rx.table.body(rx.foreach(AdminState.totals, lambda t: rx.table.row(
                    rx.table.cell(t["asset"]), rx.table.cell(t["deposited"])))),
                size="1", width="100%",
            ),
            rx.button("Run again", on_click=AdminState.run_reconcile, size="1", variant="soft",
                      id="reconcile-run"),
            spacing="3", width="100%",
        ),
        width="100%", max_width="520px",
    )


def admin() -> rx.Component:
    return page(
        rx.match(
            AdminState.access,
            ("admin", rx.vstack(rx.heading("Admin dashboard", size="7"), reconcile_card(),
                                spacing="4")),
            ("denied", rx.callout(
                "Admins only. Your account does not have access to this area.",
                icon="shield-alert", color_scheme="red", id="admin-denied")),
            rx.text("Checking access…", color_scheme="gray"),
        )
    )
