"""Admin: the support queue (filters: status, category, age) and one ticket with replies (with
an optional attachment), internal notes, status and priority."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.conversation import conversation
from bitchange.components.lists import table
from bitchange.components.uploads import attachment_upload
from bitchange.pages.admin_users import admin_frame
from bitchange.state.admin.support import AdminSupportState, AdminTicketState
from bitchange.support import service as support

STATUS_OPTIONS = [["", "Not closed"], ["all", "Any status"]] + [
    [k, v.replace("you", "user")] for k, v in support.STATUSES.items()]
AGE_OPTIONS = [["", "Any age"], ["1d", "Older than 1 day"], ["3d", "Older than 3 days"],
               ["7d", "Older than 7 days"]]


def _select(name: str, options: list[list[str]], element_id: str) -> rx.Component:
    return rx.el.select(*[rx.el.option(label, value=value) for value, label in options],
                        name=name, id=element_id)


def admin_support() -> rx.Component:
    S = AdminSupportState
    return admin_frame(S.access, rx.vstack(
        rx.heading("Support queue", size="7"),
        rx.form(rx.hstack(
            _select("status", STATUS_OPTIONS, "queue-status"),
            _select("category", [["", "Any category"]] + [[k, v] for k, v in
                                                          support.CATEGORIES.items()],
                    "queue-category"),
            _select("age", AGE_OPTIONS, "queue-age"),
            rx.button("Filter", type="submit", id="queue-filter"),
            wrap="wrap",
        ), on_submit=S.filter, reset_on_submit=False),
        table(["#", "Subject", "User", "Category", "Priority", "Status", "Opened", "Updated"],
              S.tickets,
              lambda t: [t["id"], rx.link(t["subject"], href=t["href"]), t["email"],
                         t["category"],
                         rx.badge(t["priority"], color_scheme=rx.match(
                             t["priority"], ("urgent", "red"), ("high", "orange"), "gray")),
                         rx.badge(t["status"]), t["created"], t["updated"]],
              "queue-row", "support-queue",
              empty=("No tickets match.",
                     "Change the status, category or age filters to see other tickets.")),
        spacing="3", width="100%",
    ))


def admin_support_ticket() -> rx.Component:
    S = AdminTicketState
    t = S.ticket
    status_buttons = [rx.button(label, size="1", variant="soft",
                                on_click=S.set_status(value), id=f"status-{value}")
                      for value, label in support.STATUSES.items()]
    priority_buttons = [rx.button(p, size="1", variant="outline", on_click=S.set_priority(p),
                                  id=f"priority-{p}") for p in support.PRIORITIES]
    body = rx.cond(t.contains("id"), rx.vstack(
        rx.link("← Queue", href=routes.ADMIN_SUPPORT),
        rx.heading("#", t["id"], " ", t["subject"], size="6", id="staff-ticket-title"),
        rx.hstack(rx.text(t["email"]), rx.badge(t["category"]),
                  rx.badge(t["status"], id="staff-ticket-status"),
                  rx.badge(t["priority"], id="staff-ticket-priority"), wrap="wrap"),
        rx.hstack(rx.text("Status:", size="2"), *status_buttons, wrap="wrap"),
        rx.hstack(rx.text("Priority:", size="2"), *priority_buttons, wrap="wrap"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="check", id="staff-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="staff-error")),
        conversation(S.messages),
        rx.form(rx.vstack(
            rx.text_area(name="body", placeholder="Reply to the user, or an internal note",
                         id="staff-body", width="100%", rows="4"),
            attachment_upload("staff-attachment", S.attach, S),
            rx.hstack(rx.checkbox(name="internal", id="staff-internal"),
                      rx.text("Internal note (the user never sees it)", size="2")),
            rx.button("Send", type="submit", id="staff-send"),
            width="100%",
        ), on_submit=S.reply, reset_on_submit=True),
        spacing="3", width="100%", max_width="860px",
    ), rx.text("No such ticket.", color_scheme="gray"))
    return admin_frame(S.access, body)
