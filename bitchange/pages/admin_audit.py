"""Admin: the audit log of admin actions, filterable by action, admin and target."""

from __future__ import annotations

import reflex as rx

from bitchange.components.lists import choice_select, table
from bitchange.pages.admin_users import admin_frame
from bitchange.state.admin.audit import AdminAuditState


def admin_audit() -> rx.Component:
    S = AdminAuditState
    return admin_frame(S.access, rx.vstack(
        rx.heading("Audit log", size="7"),
        rx.form(rx.hstack(
            choice_select(S.actions, "action", "audit-action", blank="any action"),
            rx.input(name="admin", placeholder="admin email", id="audit-admin"),
            rx.input(name="target", placeholder="target (user id or email)", id="audit-target"),
            rx.button("Filter", type="submit", id="audit-filter"),
        ), on_submit=S.filter, reset_on_submit=False),
        table(["Time", "Admin", "Action", "Target", "Detail", "IP"], S.rows,
              lambda r: [r[k] for k in ["time", "admin", "action", "target", "detail", "ip"]],
              "audit-row", "audit-table",
              empty=("No audit entries match.", "Every admin action is recorded here; clear "
                     "the filters to see them all.")),
        spacing="3", width="100%",
    ))
