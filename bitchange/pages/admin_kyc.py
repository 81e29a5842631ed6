"""Admin: the verification queue, a submission's details and documents (served only by the
authorised /documents route), approve or reject with a reason. Audit-logged by the service."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.components.empty import empty_state
from bitchange.documents import storage
from bitchange.inputs import parse_id
from bitchange.kyc import LEVELS
from bitchange.kyc import service as kyc
from bitchange.pages.admin_users import admin_frame, gate
from bitchange.pages.security import when
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event


class AdminKycState(rx.State):
    access: str = "unknown"
    queue: list[dict[str, str]] = []
    selected: dict[str, str] = {}
    details: list[list[str]] = []
    documents: list[dict[str, str]] = []
    notice: str = ""
    error: str = ""

    def _deny(self) -> None:
        self.access, self.queue, self.selected = "denied", [], {}
        self.details, self.documents = [], []

    def _refresh(self) -> None:
        with db.read() as conn:
            self.queue = [{"id": str(q.id), "email": q.email,
                           "level": f"{q.level} · {LEVELS[q.level]}",
                           "created": when(q.created_at)} for q in kyc.pending_queue(conn)]

    def _show(self, submission_id: int) -> None:
        with db.read() as conn:
            view = kyc.submission(conn, submission_id)
        if view is None:
            self.selected, self.details, self.documents = {}, [], []
            return
        self.selected = {"id": str(view.id), "email": view.email,
                         "level": f"{view.level} · {LEVELS[view.level]}",
                         "status": view.status, "created": when(view.created_at)}
        self.details = [[k, v] for k, v in view.details.items()]
        self.documents = [{"label": label, "url": storage.url(f),
                           "image": "yes" if f.is_image else ""}
                          for label, f in view.documents]

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user, redirect = gate(self, routes.ADMIN_KYC)
        if user is None:
            self._deny()
            return redirect
        self.access = "admin"
        self.selected, self.details, self.documents = {}, [], []
        self._refresh()
        return None

    @event
    def open(self, submission_id: str) -> None:
        if current_admin(self) is None:
            self._deny()
            return
        self.notice = self.error = ""
        try:
            self._show(parse_id(submission_id))
        except ValueError:
            self.selected = {}

    def _decide(self, reject_reason: str | None) -> None:
        admin = current_admin(self)
        if admin is None:
            self._deny()
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


def admin_kyc() -> rx.Component:
    S = AdminKycState
    queue = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
            "#", "User", "Level", "Submitted", ""]])),
        rx.table.body(rx.foreach(S.queue, lambda q: rx.table.row(
            rx.table.cell(q["id"]), rx.table.cell(q["email"]), rx.table.cell(q["level"]),
            rx.table.cell(q["created"]),
            rx.table.cell(rx.button("Review", size="1", on_click=S.open(q["id"]),
                                    class_name="kyc-review")),
            class_name="kyc-queue-row"))),
        width="100%", size="1", id="kyc-queue",
    )
    viewer = rx.cond(S.selected.contains("id"), rx.card(rx.vstack(
        rx.heading("Submission #", S.selected["id"], " · ", S.selected["email"], size="4",
                   id="kyc-viewer-title"),
        rx.text(S.selected["level"], " · submitted ", S.selected["created"], size="2"),
        rx.table.root(rx.table.body(rx.foreach(S.details, lambda d: rx.table.row(
            rx.table.row_header_cell(d[0]), rx.table.cell(d[1])))), size="1"),
        rx.hstack(rx.foreach(S.documents, lambda d: rx.vstack(
            rx.text(d["label"], size="1", weight="bold"),
            rx.cond(d["image"] == "yes",
                    rx.link(rx.image(src=d["url"], width="220px", alt=d["label"],
                                     class_name="kyc-document-image"),
                            href=d["url"], is_external=True),
                    rx.link("Open PDF", href=d["url"], is_external=True)),
            class_name="kyc-document")), wrap="wrap", spacing="3"),
        rx.hstack(
            rx.button("Approve", color_scheme="green", on_click=S.approve, id="kyc-approve"),
            rx.form(rx.hstack(
                rx.input(name="reason", placeholder="Reason shown to the user",
                         id="kyc-reason", width="320px"),
                rx.button("Reject", type="submit", color_scheme="red", id="kyc-reject"),
            ), on_submit=S.reject, reset_on_submit=True),
            spacing="4", wrap="wrap",
        ),
        spacing="3",
    ), width="100%", id="kyc-viewer"))
    return admin_frame(S.access, rx.vstack(
        rx.heading("Verification queue", size="7"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="check", id="kyc-admin-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="kyc-admin-error")),
        queue,
        empty_state(S.queue, "Nothing to review.", "Submitted verifications wait here for an "
                    "admin to approve or reject them.", id_="kyc-queue-empty"),
        viewer,
        spacing="3", width="100%",
    ))
