"""Identity verification: the user's level and limits, and the form to reach the next level.

Documents are uploaded through Reflex's upload endpoint and stored privately at once
(`state.uploads.read_upload`, `documents.storage`). The ids of the stored files stay in a
backend-only var until the form is submitted.
"""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.documents import storage
from bitchange.documents.storage import DocumentError
from bitchange.kyc import service as kyc
from bitchange.kyc.views import verification_view
from bitchange.state import live
from bitchange.state.auth import client_ip, current_user, navigate
from bitchange.state.events import event, off_loop
from bitchange.state.page import UserPage
from bitchange.state.uploads import read_upload


class VerificationState(UserPage, rx.State):
    level: int = 0
    level_name: str = ""
    state: str = "not_submitted"
    reason: str = ""
    next_level: int = 1  # 0 when fully verified
    limits: list[dict[str, str]] = []
    uploaded: dict[str, str] = {}  # kind -> "uploaded" (what the page shows)
    _drafts: dict[str, int] = {}  # kind -> private file id, never sent to the browser

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            view = verification_view(conn, user_id)
        self.level, self.level_name = view.level, view.level_name
        self.state, self.reason = view.state, view.reason
        self.next_level, self.limits = view.next_level, view.limits
        self.uploaded = {kind: "uploaded" for kind in self._drafts}

    @event
    def load(self) -> rx.event.EventSpec | None:
        user, redirect = self._open(routes.VERIFICATION)
        if user is None:
            return redirect
        live.watch(self, live.for_user(VerificationState._refresh), user_id=user.user_id,
                   activity=frozenset({live.KYC}))
        self._refresh(user.user_id)
        return None

    async def _store(self, kind: str, files: list[rx.UploadFile]) -> None:
        user = await off_loop(current_user, self)
        if user is None:
            self.access = "denied"
            return
        self.error = self.notice = ""
        try:
            data = await off_loop(read_upload, files)
            # A new file for the same document replaces the draft (it no longer counts).
            stored = await off_loop(storage.upload, user.user_id, "kyc", data,
                                    replacing=self._drafts.get(kind), ip=client_ip(self))
        except DocumentError as exc:
            self.error = f"{kyc.DOCUMENT_KINDS[kind]}: {exc}"
            return
        self._drafts = {**self._drafts, kind: stored.id}
        self.uploaded = {k: "uploaded" for k in self._drafts}

    @event
    async def upload_id_front(self, files: list[rx.UploadFile]) -> None:
        await self._store("id_front", files)

    @event
    async def upload_id_back(self, files: list[rx.UploadFile]) -> None:
        await self._store("id_back", files)

    @event
    async def upload_selfie(self, files: list[rx.UploadFile]) -> None:
        await self._store("selfie", files)

    @event
    async def upload_address_proof(self, files: list[rx.UploadFile]) -> None:
        await self._store("address_proof", files)

    @event
    def submit(self, form: dict) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            return navigate(routes.login(routes.VERIFICATION))
        self.error = self.notice = ""
        level = self.next_level
        details = kyc.Details(**{k: str(form.get(k, ""))[:200] for k in (
            "full_name", "date_of_birth", "country", "document_number", "address_line", "city",
            "postal_code")})
        files = {k: v for k, v in self._drafts.items() if k in kyc.REQUIRED.get(level, ())}
        try:
            with db.write() as conn:
                kyc.submit(conn, user.user_id, level, details, files)
        except kyc.KycError as exc:
            self.error = str(exc)
            return None
        self._drafts = {}
        self.notice = "Thank you: your documents were sent for review. We will email you."
        self._refresh(user.user_id)
        return None
