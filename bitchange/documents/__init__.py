"""Private files: KYC documents and support ticket attachments.

Checked from their content (JPEG, PNG or PDF magic bytes), size-limited (`DOCUMENT_MAX_BYTES`),
stored under `DATA_DIR/private/<purpose>/` (never under Reflex's public upload folder) with an
unguessable random name, and served only by the authorised route in `documents.http`.
"""
