"""Identity verification: the user's level and limits, and the form to reach the next level
(each document dropped is stored privately at once; the form sends them for review)."""

from __future__ import annotations

import reflex as rx

from bitchange.components.shell import page
from bitchange.components.uploads import ACCEPT
from bitchange.kyc import service as kyc
from bitchange.state.verification import VerificationState


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
