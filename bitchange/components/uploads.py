"""The file drop of a form: what it accepts (the types `documents.storage` stores) and the
attachment field of a message, with its state shown (attached, refused, remove)."""

from __future__ import annotations

import reflex as rx

ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "application/pdf": [".pdf"]}


def attachment_upload(upload_id: str, handler, state) -> rx.Component:  # type: ignore[no-untyped-def]
    """`state` carries `attachment_name`, `upload_error` and `remove_attachment`
    (`state.support.Attachment`)."""
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
