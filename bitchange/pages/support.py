"""Support for users: their tickets, a new ticket (with an optional attachment), and one
ticket's conversation with reply and close. Internal staff notes never reach this page."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.clock import when
from bitchange.components.empty import empty_state
from bitchange.components.shell import page
from bitchange.documents import storage
from bitchange.documents.storage import DocumentError
from bitchange.inputs import parse_id
from bitchange.pages.verification import ACCEPT, read_upload
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event, off_loop
from bitchange.support import service as support


def _ticket_row(t: support.TicketSummary, *, staff: bool) -> dict[str, str]:
    return {"id": str(t.id), "subject": t.subject,
            "category": support.CATEGORIES.get(t.category, t.category),
            "status": t.status, "status_label": support.STATUSES.get(t.status, t.status),
            "priority": t.priority, "email": t.email, "created": when(t.created_at),
            "updated": when(t.updated_at), "href": routes.support_ticket(t.id, staff=staff)}


def message_rows(messages: list[support.MessageView]) -> list[dict[str, str]]:
    return [{"id": str(m.id), "kind": m.kind, "author": m.author, "body": m.body,
             "time": when(m.created_at),
             "attachment": storage.url(m.attachment) if m.attachment else "",
             "attachment_type": m.attachment.content_type if m.attachment else ""}
            for m in messages]


ATTACHMENT_REFUSED = "The attachment was refused: attach another file or remove it."


class _Attachment(rx.State, mixin=True):
    attachment_name: str = ""
    upload_error: str = ""
    _attachment_id: int | None = None

    async def _take(self, files: list[rx.UploadFile]) -> None:
        user = await off_loop(current_user, self)
        if user is None:
            return
        self.upload_error = ""
        try:
            data = await off_loop(read_upload, files)
            stored = await off_loop(storage.upload, user.user_id, "support", data,
                                    replacing=self._attachment_id)
        except DocumentError as exc:
            # The message is not sent until this is fixed or removed (`_attachment_refused`);
            # an earlier file stays recorded, so that either one replaces or removes it too.
            self.upload_error, self.attachment_name = str(exc), ""
            return
        self._attachment_id = stored.id
        self.attachment_name = f"Attached ({stored.content_type}, {stored.size:,} bytes)"

    def _attachment_refused(self) -> bool:
        """Whether the message waits for its refused attachment to be replaced or removed (it
        would otherwise leave without the file the user meant to send)."""
        if self.upload_error:
            self.error = ATTACHMENT_REFUSED
        return bool(self.upload_error)

    def _remove_attachment(self) -> None:
        user = current_user(self)
        if user is not None and self._attachment_id is not None:
            storage.discard(user.user_id, self._attachment_id)
        self._attachment_id, self.attachment_name = None, ""
        self.upload_error = self.error = ""


class SupportState(_Attachment, rx.State):
    access: str = "unknown"
    tickets: list[dict[str, str]] = []
    categories: list[list[str]] = [[k, v] for k, v in support.CATEGORIES.items()]
    error: str = ""

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            self.tickets = [_ticket_row(t, staff=False) for t in support.tickets_of(conn,
                                                                                   user_id)]

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.error = self.upload_error = self.attachment_name = ""
        self._attachment_id = None
        user = current_user(self)
        if user is None:
            self.access = "denied"
            return navigate(routes.login(routes.SUPPORT))
        self.access = "ok"
        self._refresh(user.user_id)
        return None

    @event
    async def attach(self, files: list[rx.UploadFile]) -> None:
        await self._take(files)

    @event
    def remove_attachment(self) -> None:
        self._remove_attachment()

    @event
    def open_ticket(self, form: dict) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            return navigate(routes.login(routes.SUPPORT))
        self.error = ""
        if self._attachment_refused():
            return None
        try:
            with db.write() as conn:
                ticket_id = support.open_ticket(
                    conn, user.user_id, subject=str(form.get("subject", ""))[:200],
                    category=str(form.get("category", "")),
                    body=str(form.get("body", ""))[:support.MAX_BODY + 1],
                    attachment_id=self._attachment_id)
        except support.SupportError as exc:
            self.error = str(exc)
            return None
        self._attachment_id, self.attachment_name = None, ""
        return navigate(routes.support_ticket(ticket_id))


class TicketState(_Attachment, rx.State):
    access: str = "unknown"
    ticket: dict[str, str] = {}
    messages: list[dict[str, str]] = []
    error: str = ""

    def _ticket_id(self) -> int:
        try:
            return parse_id(self.router.url.query_parameters.get("id"))
        except ValueError:
            return -1

    def _refresh(self, user_id: int) -> bool:
        try:
            with db.read() as conn:
                summary, messages = support.thread(conn, self._ticket_id(), viewer_id=user_id,
                                                   staff=False)
        except support.SupportError:
            self.access, self.ticket, self.messages = "missing", {}, []
            return False
        self.access = "ok"
        self.ticket = _ticket_row(summary, staff=False)
        self.messages = message_rows(messages)
        return True

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.error = self.upload_error = self.attachment_name = ""
        self._attachment_id = None
        user = current_user(self)
        if user is None:
            self.access = "denied"
            return navigate(routes.login(routes.SUPPORT))
        self._refresh(user.user_id)
        return None

    @event
    async def attach(self, files: list[rx.UploadFile]) -> None:
        await self._take(files)

    @event
    def remove_attachment(self) -> None:
        self._remove_attachment()

    @event
    def reply(self, form: dict) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            return navigate(routes.login(routes.SUPPORT))
        self.error = ""
        if self._attachment_refused():
            return None
        try:
            with db.write() as conn:
                support.user_reply(conn, user.user_id, self._ticket_id(),
                                   str(form.get("body", ""))[:support.MAX_BODY + 1],
                                   self._attachment_id)
            self._attachment_id, self.attachment_name = None, ""
        except support.SupportError as exc:
            self.error = str(exc)
        self._refresh(user.user_id)
        return None

    @event
    def close(self) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            return navigate(routes.login(routes.SUPPORT))
        self.error = ""
        try:
            with db.write() as conn:
                support.user_close(conn, user.user_id, self._ticket_id())
        except support.SupportError as exc:
            self.error = str(exc)
        self._refresh(user.user_id)
        return None


def attachment_upload(upload_id: str, handler, state) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.vstack(
        rx.upload(rx.text("Attach a JPEG, PNG or PDF (optional): drop it here or click",
                          size="1"),
                  id=upload_id, max_files=1, accept=ACCEPT, on_drop=handler,
                  border=f"1px dashed {rx.color('gray', 7)}", padding="0.5em"),
        rx.cond(state.attachment_name != "", rx.text(state.attachment_name, size="1",
                                                     color_scheme="green",
                                                     id=f"{upload_id}-done")),
        rx.cond(state.upload_error != "", rx.text(state.upload_error, size="1",
                                                  color_scheme="red",
                                                  id=f"{upload_id}-error")),
        rx.cond((state.attachment_name != "") | (state.upload_error != ""),
                rx.button("Remove the attachment", type="button", size="1", variant="ghost",
                          color_scheme="gray", on_click=state.remove_attachment,
                          id=f"{upload_id}-remove")),
        spacing="1",
    )


def conversation(messages, *, staff: bool) -> rx.Component:  # type: ignore[no-untyped-def]
    def bubble(m) -> rx.Component:  # type: ignore[no-untyped-def]
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

    return rx.vstack(rx.foreach(messages, bubble), width="100%", spacing="2",
                     id="ticket-messages")


def support_page() -> rx.Component:
    S = SupportState
    body = rx.vstack(
        rx.heading("Support", size="7"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
                "#", "Subject", "Category", "Status", "Updated"]])),
            rx.table.body(rx.foreach(S.tickets, lambda t: rx.table.row(
                rx.table.cell(t["id"]),
                rx.table.cell(rx.link(t["subject"], href=t["href"])),
                rx.table.cell(t["category"]), rx.table.cell(rx.badge(t["status_label"])),
                rx.table.cell(t["updated"]), class_name="ticket-row"))),
            width="100%", size="1", id="tickets-table",
        ),
        empty_state(S.tickets, "You have no support tickets.",
                    "Open one below and we will answer by email and here.",
                    id_="tickets-table-empty"),
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
        conversation(S.messages, staff=False),
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
