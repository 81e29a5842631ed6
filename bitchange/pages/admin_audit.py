"""Admin: the audit log of admin actions, filterable by action, admin and target."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state
from bitchange.pages.admin_users import admin_frame
from bitchange.state.admin.audit import AdminAuditState


def admin_audit() -> rx.Component:
    S = AdminAuditState
    return admin_frame(S.access, rx.vstack(
        rx.heading("Audit log", size="7"),
        rx.form(rx.hstack(
            rx.el.select(rx.el.option("any action", value=""),
                         rx.foreach(S.actions, lambda a: rx.el.option(a, value=a)),
                         name="action", id="audit-action"),
            rx.input(name="admin", placeholder="admin email", id="audit-admin"),
            rx.input(name="target", placeholder="target (user id or email)", id="audit-target"),
            rx.button("Filter", type="submit", id="audit-filter"),
        ), on_submit=S.filter, reset_on_submit=False),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ["Time", "Admin", "Action", "Target", "Detail",
                                            "IP"]])),
            rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                *[rx.table.cell(r[k]) for k in ["time", "admin", "action", "target", "detail",
                                                 "ip"]], class_name="audit-row"))),
            width="100%", id="audit-table",
        ),
        empty_state(S.rows, "No audit entries match.", "Every admin action is recorded "
                    "here; clear the filters to see them all.", id_="audit-empty"),
        spacing="3", width="100%",
    ))
