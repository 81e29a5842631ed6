"""Support for users: their tickets, a new ticket (with an optional attachment), and one
ticket's conversation with reply and close. Internal staff notes never reach these states.
`Attachment` is the one way a support message takes a file, for users and staff alike."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from sqlalchemy import Connection

from bitchange import db, routes
from bitchange.accounts.sessions import CurrentUser
from bitchange.documents import storage
from bitchange.documents.storage import DocumentError
from bitchange.inputs import parse_id
from bitchange.state.auth import client_ip, current_user, navigate
from bitchange.state.events import event, off_loop
from bitchange.state.page import UserPage
from bitchange.state.uploads import read_upload
from bitchange.support import service as support
from bitchange.support import views

ATTACHMENT_REFUSED = "The attachment was refused: attach another file or remove it."


class Attachment(rx.State, mixin=True):
    """The file a message being written will carry: checked and stored privately at once (the
    same size, type and pending-upload limits for everyone), sent with the message."""

    attachment_name: str = ""
    upload_error: str = ""
    _attachment_id: int | None = None

    def _uploader(self) -> CurrentUser | None:
        """Who may attach here (the signed-in user; the staff's page asks for an admin)."""
        return current_user(self)

    def _forget_attachment(self) -> None:
        self.upload_error = self.attachment_name = ""
        self._attachment_id = None

    async def _take(self, files: list[rx.UploadFile]) -> None:
        user = await off_loop(self._uploader)
        if user is None:
            return
        self.upload_error = ""
        try:
            data = await off_loop(read_upload, files)
            stored = await off_loop(storage.upload, user.user_id, "support", data,
                                    replacing=self._attachment_id, ip=client_ip(self))
        except DocumentError as exc:
            # The message is not sent until this is fixed or removed (`_attachment_refused`);
            # an earlier file stays recorded, so that either one replaces or removes it too.
            self.upload_error, self.attachment_name = str(exc), ""
            return
        self._attachment_id = stored.id
        self.attachment_name = f"Attached ({stored.content_type}, {stored.size:,} bytes)"

    def _attachment_refused(self) -> bool:
        """Whether the message waits for its refused attachment to be replaced or removed (it
        would otherwise leave without the file the user meant to send); `error` says so, or is
        cleared for the message."""
        self.error = ATTACHMENT_REFUSED if self.upload_error else ""
        return bool(self.upload_error)

    def _send(self, write: Callable[[Connection, int | None], int]) -> int | None:
        """Store the message `write` makes with the attachment's id: its id (the attachment is
        then the message's), or None with `error` said."""
        try:
            with db.write() as conn:
                sent = write(conn, self._attachment_id)
        except support.SupportError as exc:
            self.error = str(exc)
            return None
        self._attachment_id, self.attachment_name = None, ""
        return sent

    def _remove_attachment(self) -> None:
        user = self._uploader()
        if user is not None and self._attachment_id is not None:
            storage.discard(user.user_id, self._attachment_id)
        self._attachment_id, self.attachment_name = None, ""
        self.upload_error = self.error = ""

    @event
    async def attach(self, files: list[rx.UploadFile]) -> None:
        await self._take(files)

    @event
    def remove_attachment(self) -> None:
        self._remove_attachment()


def ticket_id(state: rx.State) -> int:
    """The ticket the page's `?id=` names (-1, no ticket, if it names none)."""
    try:
        return parse_id(state.router.url.query_parameters.get("id"))
    except ValueError:
        return -1


class UserSupportPage(Attachment, UserPage, rx.State, mixin=True):
    """A user's support page: it opens with no attachment, showing what the page's
    `_refresh(user_id)` reads."""

    @event
    def load(self) -> rx.event.EventSpec | None:
        self._forget_attachment()
        user, redirect = self._open(routes.SUPPORT)
        if user is None:
            return redirect
        self._refresh(user.user_id)
        return None


class SupportState(UserSupportPage, rx.State):
    tickets: list[dict[str, str]] = []
    categories: list[list[str]] = views.CATEGORY_CHOICES

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            self.tickets = views.tickets_of(conn, user_id)

    @event
    def open_ticket(self, form: dict) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            return navigate(routes.login(routes.SUPPORT))
        if self._attachment_refused():
            return None
        opened = self._send(lambda conn, attachment_id: support.open_ticket(
            conn, user.user_id, subject=str(form.get("subject", ""))[:200],
            category=str(form.get("category", "")),
            body=str(form.get("body", ""))[:support.MAX_BODY + 1],
            attachment_id=attachment_id, ip=client_ip(self)))
        return None if opened is None else navigate(routes.support_ticket(opened))


class TicketState(UserSupportPage, rx.State):
    ticket: dict[str, str] = {}
    messages: list[dict[str, str]] = []

    def _refresh(self, user_id: int) -> bool:
        with db.read() as conn:
            view = views.thread_view(conn, ticket_id(self), viewer_id=user_id, staff=False)
        if view is None:
            self.access, self.ticket, self.messages = "missing", {}, []
            return False
        self.access, self.ticket, self.messages = "ok", view.ticket, view.messages
        return True

    @event
    def reply(self, form: dict) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            return navigate(routes.login(routes.SUPPORT))
        if self._attachment_refused():
            return None
        self._send(lambda conn, attachment_id: support.user_reply(
            conn, user.user_id, ticket_id(self), str(form.get("body", ""))[:support.MAX_BODY + 1],
            attachment_id))
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
                support.user_close(conn, user.user_id, ticket_id(self))
        except support.SupportError as exc:
            self.error = str(exc)
        self._refresh(user.user_id)
        return None
