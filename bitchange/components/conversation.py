"""A support ticket's messages as both sides see them (`support.views.message_rows`): the
user's, the staff's replies and, on the staff's page only, internal notes."""

from __future__ import annotations

import reflex as rx


def _bubble(m) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.card(rx.vstack(
        rx.hstack(rx.text(m["author"], weight="bold", size="2"),
                  rx.match(m["kind"],
                           ("note", rx.badge("Internal note", color_scheme="amber")),
                           ("staff", rx.badge("Support", color_scheme="blue")),
                           rx.fragment()),
                  rx.text(m["time"], size="1", color_scheme="gray")),
        rx.text(m["body"], white_space="pre-wrap", class_name="message-body"),
        rx.cond(m["attachment"] != "", rx.link(
            "Attachment (" + m["attachment_type"] + ")", href=m["attachment"],
            is_external=True, class_name="message-attachment")),
        spacing="1", align="start",
    ), class_name=rx.match(m["kind"], ("note", "message message-note"),
                           ("staff", "message message-staff"), "message message-user"),
       width="100%",
       background_color=rx.cond(m["kind"] == "note", rx.color("amber", 3), ""))


def conversation(messages) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.vstack(rx.foreach(messages, _bubble), width="100%", spacing="2",
                     id="ticket-messages")
