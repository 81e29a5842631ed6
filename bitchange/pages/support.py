"""Support for users: their tickets, a new ticket (with an optional attachment), and one
ticket's conversation with reply and close. Internal staff notes never reach this page."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.conversation import conversation
from bitchange.components.lists import table
from bitchange.components.shell import page
from bitchange.components.uploads import attachment_upload
from bitchange.state.support import SupportState, TicketState


def support_page() -> rx.Component:
    S = SupportState
    body = rx.vstack(
        rx.heading("Support", size="7"),
        table(["#", "Subject", "Category", "Status", "Updated"], S.tickets,
              lambda t: [t["id"], rx.link(t["subject"], href=t["href"]), t["category"],
                         rx.badge(t["status_label"]), t["updated"]],
              "ticket-row", "tickets-table",
              empty=("You have no support tickets.",
                     "Open one below and we will answer by email and here.")),
        rx.card(rx.form(rx.vstack(
            rx.heading("Open a ticket", size="4"),
            rx.input(name="subject", placeholder="Subject", id="ticket-subject", width="100%"),
            rx.el.select(rx.el.option("Choose a category", value=""),
                         rx.foreach(S.categories, lambda c: rx.el.option(c[1], value=c[0])),
                         name="category", id="ticket-category"),
            rx.text_area(name="body", placeholder="How can we help?", id="ticket-body",
                         width="100%", rows="5"),
            attachment_upload("ticket-attachment", S.attach, S),
            rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert",
                                              color_scheme="red", id="ticket-error")),
            rx.button("Send", type="submit", id="ticket-submit"),
            spacing="2", width="100%",
        ), on_submit=S.open_ticket, reset_on_submit=False), width="100%", max_width="640px"),
        spacing="4", width="100%",
    )
    return page(rx.cond(S.access == "ok", body, rx.text("Loading…", color_scheme="gray")))


def support_ticket() -> rx.Component:
    S = TicketState
    t = S.ticket
    body = rx.vstack(
        rx.link("← All tickets", href=routes.SUPPORT),
        rx.heading("#", t["id"], " ", t["subject"], size="6", id="ticket-title"),
        rx.hstack(rx.badge(t["category"]), rx.badge(t["status_label"], id="ticket-status")),
        conversation(S.messages),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="ticket-error")),
        rx.cond(t["status"] != "closed", rx.form(rx.vstack(
            rx.text_area(name="body", placeholder="Reply", id="reply-body", width="100%"),
            attachment_upload("reply-attachment", S.attach, S),
            rx.hstack(rx.button("Send reply", type="submit", id="reply-submit"),
                      rx.button("Close ticket", type="button", variant="soft",
                                color_scheme="gray", on_click=S.close, id="ticket-close")),
            width="100%",
        ), on_submit=S.reply, reset_on_submit=True)),
        spacing="3", width="100%", max_width="800px",
    )
    return page(rx.match(
        S.access,
        ("ok", body),
        ("missing", rx.callout("No such ticket.", icon="circle-x", id="ticket-missing")),
        rx.text("Loading…", color_scheme="gray"),
    ))
