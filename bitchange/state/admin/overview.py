"""Admin: the dashboard (ledger reconciliation, net deposits, backups and scheduled jobs).
Access is decided on the server for every event; an admin without 2FA is told to turn it on."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.ops.admin_views import reconcile_view
from bitchange.ops.health import operations_view
from bitchange.state.admin import AdminPage
from bitchange.state.auth import current_user
from bitchange.state.events import event


class AdminState(AdminPage, rx.State):
    # "unknown" until the server has decided; then "admin", "needs_2fa" or "denied".
    reconcile_ok: bool = False
    reconcile_summary: str = ""
    reconcile_lines: list[str] = []
    totals: list[dict[str, str]] = []
    # Operations: backups and scheduled jobs (bitchange.ops.health.operations_view).
    backup_configured: bool = True
    backup_last_ok: str = ""
    backup_age: str = ""
    backup_stale: bool = False
    backup_last_error: str = ""
    scheduler_alive: bool = False
    scheduler_leader: str = ""
    jobs: list[dict[str, str]] = []

    def _clear(self) -> None:
        self.reconcile_ok, self.reconcile_summary = False, ""
        self.reconcile_lines, self.totals = [], []
        self.backup_last_ok, self.backup_age, self.backup_last_error = "", "", ""
        self.scheduler_leader, self.jobs = "", []

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = self._open(routes.ADMIN)
        if user is None:
            viewer = current_user(self)
            if viewer is not None and viewer.is_admin:  # admins must have 2FA first
                self.access = "needs_2fa"
            return redirect
        self._run_reconcile()
        self._load_operations()
        return None

    @event
    def refresh_operations(self) -> None:
        if self._admin() is not None:
            self._load_operations()

    @event
    def run_reconcile(self) -> None:
        if self._admin() is not None:
            self._run_reconcile()

    def _load_operations(self) -> None:
        view = operations_view()
        self.backup_configured = view.backup_configured
        self.backup_last_ok, self.backup_age = view.backup_last_ok, view.backup_age
        self.backup_stale, self.backup_last_error = view.backup_stale, view.backup_last_error
        self.scheduler_alive, self.scheduler_leader = view.scheduler_alive, view.scheduler_leader
        self.jobs = view.jobs

    def _run_reconcile(self) -> None:
        with db.read() as conn:
            view = reconcile_view(conn)
        self.reconcile_ok, self.reconcile_summary = view.ok, view.summary
        self.reconcile_lines, self.totals = view.lines, view.totals
