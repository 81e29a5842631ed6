"""Admin: the verification queue, a submission's details and documents (served only by the
authorised /documents route), approve or reject with a reason."""

from __future__ import annotations

import reflex as rx

from bitchange.components.lists import table
from bitchange.pages.admin_users import admin_frame
from bitchange.state.admin.kyc import AdminKycState


def admin_kyc() -> rx.Component:
    S = AdminKycState
    queue = table(["#", "User", "Level", "Submitted", ""], S.queue,
                  lambda q: [q["id"], q["email"], q["level"], q["created"],
                             rx.button("Review", size="1", on_click=S.open(q["id"]),
                                       class_name="kyc-review")],
                  "kyc-queue-row", "kyc-queue",
                  empty=("Nothing to review.", "Submitted verifications wait here for an "
                         "admin to approve or reject them."))
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
        viewer,
        spacing="3", width="100%",
    ))
