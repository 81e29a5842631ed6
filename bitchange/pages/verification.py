"""Identity verification: the user's level and limits, and the form to reach the next level.

Documents are uploaded through Reflex's upload endpoint, but never saved in its (public) upload
folder: the handler reads the bytes and `documents.storage` checks and writes them to the private
folder. The ids of the stored files stay in a backend-only var until the form is submitted.
"""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.components.shell import page
from bitchange.documents import storage
from bitchange.documents.storage import DocumentError
from bitchange.kyc import LEVELS, limits_for
from bitchange.kyc import service as kyc
from bitchange.state import live
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event, off_loop
from bitchange.trading.markets import format_usdt

ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "application/pdf": [".pdf"]}


def read_upload(files: list[rx.UploadFile]) -> bytes:
    """The first uploaded file's bytes, at most one byte over the limit (so an oversized file is
    refused without reading all of it). Starlette spools big uploads to the system temporary
    folder and deletes them after the request; nothing goes to Reflex's public upload folder.
    It reads from disk: handlers call it through `off_loop`."""
    if not files:
        raise DocumentError("Choose a file.")
    return files[0].file.read(storage.max_bytes() + 1)


class VerificationState(rx.State):
    access: str = "unknown"
    level: int = 0
    level_name: str = ""
    state: str = "not_submitted"
    reason: str = ""
    next_level: int = 1  # 0 when fully verified
    limits: list[dict[str, str]] = []
    uploaded: dict[str, str] = {}  # kind -> "uploaded" (what the page shows)
    error: str = ""
    notice: str = ""
    _drafts: dict[str, int] = {}  # kind -> private file id, never sent to the browser

    def _refresh(self, user_id: int) -> None:
        with db.read() as conn:
            status = kyc.status_of(conn, user_id)
        self.level, self.level_name = status.level, LEVELS[status.level]
        self.state, self.reason = status.state, status.reason
        self.next_level = status.next_level or 0
        self.limits = []
        for level, name in LEVELS.items():
            limits = limits_for(level)
            self.limits.append({
                "level": str(level), "name": name,
                "withdrawal": format_usdt(limits.withdrawal_usdt) + " USDT",
                "transfer": format_usdt(limits.transfer_usdt) + " USDT",
                "current": "yes" if level == status.level else ""})
        self.uploaded = {kind: "uploaded" for kind in self._drafts}

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.error = self.notice = ""
        user = current_user(self)
        if user is None:
            self.access = "denied"
            return navigate(routes.login(routes.VERIFICATION))
        self.access = "ok"
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
                                    replacing=self._drafts.get(kind))
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


def _upload(kind: str, handler) -> rx.Component:  # type: ignore[no-untyped-def]
    S = VerificationState
    return rx.vstack(
        rx.text(kyc.DOCUMENT_KINDS[kind], weight="bold", size="2"),
        rx.upload(
            rx.vstack(rx.icon("upload", size=18),
                      rx.text("Drop a JPEG, PNG or PDF here, or click", size="1"),
                      align="center", spacing="1"),
            id=f"kyc-{kind}", max_files=1, accept=ACCEPT, on_drop=handler,
            border=f"1px dashed {rx.color('gray', 7)}", padding="0.75em", width="100%",
        ),
        rx.cond(S.uploaded.contains(kind),
                rx.badge("Uploaded", color_scheme="green", id=f"kyc-{kind}-done"),
                rx.badge("Missing", color_scheme="gray")),
        width="240px", spacing="1",
    )


def _identity_form() -> rx.Component:
    S = VerificationState
    return rx.form(rx.vstack(
        rx.heading("Level 1: verify your identity", size="4"),
        rx.hstack(
            rx.input(name="full_name", placeholder="Full legal name", id="kyc-full-name",
                     width="260px"),
            rx.input(name="date_of_birth", placeholder="Date of birth (YYYY-MM-DD)",
                     id="kyc-birth", width="220px"),
            rx.input(name="country", placeholder="Country of the ID", id="kyc-country"),
            rx.input(name="document_number", placeholder="ID document number",
                     id="kyc-document-number"),
            wrap="wrap",
        ),
        rx.hstack(_upload("id_front", S.upload_id_front), _upload("id_back", S.upload_id_back),
                  _upload("selfie", S.upload_selfie), wrap="wrap"),
        rx.button("Submit for review", type="submit", id="kyc-submit"),
        spacing="3",
    ), on_submit=S.submit, reset_on_submit=False)


def _address_form() -> rx.Component:
    S = VerificationState
    return rx.form(rx.vstack(
        rx.heading("Level 2: verify your address", size="4"),
        rx.hstack(
            rx.input(name="address_line", placeholder="Street address", id="kyc-address",
                     width="320px"),
            rx.input(name="city", placeholder="City", id="kyc-city"),
            rx.input(name="postal_code", placeholder="Postal code", id="kyc-postal"),
            rx.input(name="country", placeholder="Country", id="kyc-address-country"),
            wrap="wrap",
        ),
        _upload("address_proof", S.upload_address_proof),
        rx.text("A utility bill or bank statement from the last 3 months.", size="1",
                color_scheme="gray"),
        rx.button("Submit for review", type="submit", id="kyc-submit"),
        spacing="3",
    ), on_submit=S.submit, reset_on_submit=False)


def verification() -> rx.Component:
    S = VerificationState
    limits = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
            "Level", "", "Withdrawals / 24 h", "Internal transfers / 24 h"]])),
        rx.table.body(rx.foreach(S.limits, lambda r: rx.table.row(
            rx.table.cell(r["level"]), rx.table.cell(r["name"]),
            rx.table.cell(r["withdrawal"]), rx.table.cell(r["transfer"]),
            class_name=rx.cond(r["current"] == "yes", "limit-row current", "limit-row"),
            background_color=rx.cond(r["current"] == "yes", rx.color("amber", 3), "")))),
        width="100%", max_width="720px", size="1", id="kyc-limits",
    )
    body = rx.vstack(
        rx.heading("Verification", size="7"),
        rx.hstack(rx.text("Your level:"),
                  rx.badge(S.level.to_string() + " · " + S.level_name, size="2",
                           id="kyc-level"), align="center"),
        limits,
        rx.cond(S.notice != "", rx.callout(S.notice, icon="check", color_scheme="green",
                                           id="kyc-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="kyc-error")),
        rx.match(
            S.state,
            ("pending", rx.callout("Your documents are being reviewed. We will email you the "
                                   "decision.", icon="clock", id="kyc-pending")),
            rx.fragment(),
        ),
        rx.cond(S.state == "rejected", rx.callout(
            "Your last submission was not approved: " + S.reason + ". You can submit again.",
            icon="circle-x", color_scheme="red", id="kyc-rejected")),
        rx.cond(S.state != "pending", rx.match(
            S.next_level,
            (1, _identity_form()),
            (2, _address_form()),
            rx.callout("Your account is fully verified.", icon="badge-check",
                       color_scheme="green", id="kyc-complete"),
        )),
        spacing="4", width="100%",
    )
    return page(rx.cond(S.access == "ok", body, rx.text("Loading…", color_scheme="gray")))
