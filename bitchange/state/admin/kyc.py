"""Admin: the verification queue, one submission, approve or reject with a reason.
Audit-logged by the service."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.inputs import parse_id
from bitchange.kyc import admin_views
from bitchange.kyc import service as kyc
from bitchange.state.admin import AdminPage
from bitchange.state.auth import client_ip
from bitchange.state.events import event


class AdminKycState(AdminPage, rx.State):
    queue: list[dict[str, str]] = []
    selected: dict[str, str] = {}
    details: list[list[str]] = []
    documents: list[dict[str, str]] = []
    notice: str = ""
    error: str = ""

    def _clear(self) -> None:
        self.queue, self.selected = [], {}
        self.details, self.documents = [], []

    def _refresh(self) -> None:
        with db.read() as conn:
            self.queue = admin_views.queue_rows(conn)

    def _show(self, submission_id: int) -> None:
        with db.read() as conn:
            view = admin_views.submission_page(conn, submission_id)
        if view is None:
            self.selected, self.details, self.documents = {}, [], []
            return
        self.selected, self.details, self.documents = view.selected, view.details, view.documents

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user, redirect = self._open(routes.ADMIN_KYC)
        if user is None:
            return redirect
        self.selected, self.details, self.documents = {}, [], []
        self._refresh()
        return None

    @event
    def open(self, submission_id: str) -> None:
        if self._admin() is None:
            return
        self.notice = self.error = ""
        try:
            self._show(parse_id(submission_id))
        except ValueError:
            self.selected = {}

    def _decide(self, reject_reason: str | None) -> None:
        admin = self._admin()
        if admin is None:
            return
        self.notice = self.error = ""
        try:
            submission_id = parse_id(self.selected.get("id"))
            with db.write() as conn:
                if reject_reason is None:
                    kyc.approve(conn, admin.user_id, submission_id, ip=client_ip(self))
                else:
                    kyc.reject(conn, admin.user_id, submission_id, reject_reason,
                               ip=client_ip(self))
            self.notice = f"Submission {submission_id} " + (
                "approved." if reject_reason is None else "rejected.")
            self.selected, self.details, self.documents = {}, [], []
        except kyc.KycError as exc:
            self.error = str(exc)
        except ValueError:
            self.error = "Choose a submission."
        self._refresh()

    @event
    def approve(self) -> None:
        self._decide(None)

    @event
    def reject(self, form: dict) -> None:
        self._decide(str(form.get("reason", ""))[:600])
