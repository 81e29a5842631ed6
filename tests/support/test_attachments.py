"""A refused attachment blocks the message until another file replaces it or it is removed: the
message never leaves without the file the user meant to send. Removing an attachment deletes
the unsent upload."""

from __future__ import annotations

import asyncio
import io

import reflex as rx
from sqlalchemy import func, select

from bitchange import db
from bitchange.documents import storage
from bitchange.state.support import ATTACHMENT_REFUSED, SupportState, TicketState
from bitchange.support import service as support
from bitchange.support.tables import SupportMessage, SupportTicket
from tests.accounts.test_handlers import state_of
from tests.kyc.test_handlers import token_for
from tests.kyc.test_kyc import PNG
from tests.staking.conftest import make_user

FORM = {"subject": "Deposit missing", "category": "other", "body": "Here is the receipt."}


def _file(data: bytes) -> list[rx.UploadFile]:
    return [rx.UploadFile(file=io.BytesIO(data))]


def _count(table) -> int:  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(table.__table__))


def test_a_refused_attachment_blocks_the_ticket_until_replaced_or_removed(database):
    alice = make_user("alice@example.com")
    state = state_of(SupportState, token_for(alice))
    asyncio.run(state.attach(_file(b"MZ not a receipt")))
    assert state.upload_error.startswith("Only JPEG or PNG")
    state.open_ticket(FORM)
    assert state.error == ATTACHMENT_REFUSED and _count(SupportTicket) == 0

    asyncio.run(state.attach(_file(PNG)))  # fixed: another file
    state.open_ticket(FORM)
    assert state.error == "" and _count(SupportTicket) == 1

    asyncio.run(state.attach(_file(b"")))
    state.open_ticket(FORM)
    assert state.error == ATTACHMENT_REFUSED and _count(SupportTicket) == 1
    state.remove_attachment()  # or removed: the ticket goes without a file, as now intended
    state.open_ticket(FORM)
    assert state.error == "" and _count(SupportTicket) == 2


def test_a_refused_attachment_blocks_a_reply(database):
    alice = make_user("alice@example.com")
    with db.write() as conn:
        ticket = support.open_ticket(conn, alice, subject="Help", category="other", body="Hi")
    state = state_of(TicketState, token_for(alice), query=f"?id={ticket}")
    state.load()
    asyncio.run(state.attach(_file(b"not an image")))
    state.reply({"body": "The file"})
    assert state.error == ATTACHMENT_REFUSED and _count(SupportMessage) == 1


def test_removing_an_attachment_deletes_the_unsent_upload(database):
    alice = make_user("alice@example.com")
    state = state_of(SupportState, token_for(alice))
    asyncio.run(state.attach(_file(PNG)))
    asyncio.run(state.attach(_file(PNG)))  # another file replaces the first
    asyncio.run(state.attach(_file(b"not an image")))  # refused: the last good one waits
    with db.read() as conn:
        assert storage.unsent_count(conn, alice) == 1
    state.remove_attachment()
    assert state.attachment_name == ""
    with db.read() as conn:
        assert storage.unsent_count(conn, alice) == 0
    from bitchange.config import get_settings

    assert not any(path.is_file() for path in get_settings().private_dir.rglob("*"))
