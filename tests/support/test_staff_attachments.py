"""Staff attach a file to a support reply under the users' rules (type and size checked from
the content, the pending-upload quota, private storage), and every staff view of a private
document (a KYC document, a ticket attachment) is written to the audit log."""

from __future__ import annotations

import asyncio
import io

import pytest
import reflex as rx
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bitchange import db
from bitchange.accounts import totp
from bitchange.accounts.audit import search
from bitchange.documents import storage
from bitchange.documents.tables import PrivateFile
from bitchange.state.admin.support import AdminTicketState
from bitchange.state.support import ATTACHMENT_REFUSED
from bitchange.support import service as support
from bitchange.support.service import SupportError
from bitchange.support.tables import SupportMessage
from bitchange.web import api
from tests.accounts.test_handlers import state_of
from tests.kyc.test_handlers import token_for
from tests.kyc.test_kyc import PNG, submit
from tests.kyc.test_upload_limits import _settings
from tests.staking.conftest import make_user
from tests.support.test_support import open_ticket

_files = PrivateFile.__table__
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

pytestmark = pytest.mark.usefixtures("books")


def _file(data: bytes) -> list[rx.UploadFile]:
    return [rx.UploadFile(file=io.BytesIO(data))]


def _staff(email: str = "support@example.com") -> int:
    staff = make_user(email, admin=True)
    with db.write() as conn:
        totp.enable_with_secret(conn, staff, SECRET)
    return staff


def _cookie(user_id: int) -> dict[str, str]:
    return {"cookie": f"bc_session={token_for(user_id)}"}


def _messages() -> int:
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(SupportMessage.__table__))


def _views(target: str) -> list:  # type: ignore[type-arg]
    with db.read() as conn:
        return [e for e in search(conn, action="document_view") if e.target == target]


def test_staff_attach_a_file_to_a_reply_that_only_the_ticket_owner_opens(database):
    alice, bob, staff = make_user("alice@example.com"), make_user("bob@example.com"), _staff()
    ticket = open_ticket(alice)
    state = state_of(AdminTicketState, token_for(staff), query=f"?id={ticket}")
    state.load()
    asyncio.run(state.attach(_file(PNG)))
    assert state.upload_error == "" and state.attachment_name.startswith("Attached (image/png")
    state.reply({"body": "The form to fill in is attached."})
    assert state.error == "" and state.notice == "Reply sent; the user was emailed."
    assert state.attachment_name == ""  # sent with the reply
    reply = state.messages[-1]
    assert reply["kind"] == "staff" and reply["attachment_type"] == "image/png"

    client = TestClient(api)
    assert client.get(reply["attachment"], headers=_cookie(alice)).content == PNG
    assert client.get(reply["attachment"], headers=_cookie(bob)).status_code == 404
    assert client.get(reply["attachment"]).status_code == 404
    with db.read() as conn:
        assert storage.unsent_count(conn, staff) == 0


def test_a_staff_attachment_follows_the_users_rules(database, monkeypatch):
    _settings(monkeypatch, UPLOAD_PENDING_MAX="1", DOCUMENT_MAX_BYTES="400")
    alice, staff = make_user("alice@example.com"), _staff()
    ticket = open_ticket(alice)
    state = state_of(AdminTicketState, token_for(staff), query=f"?id={ticket}")
    state.load()
    asyncio.run(state.attach(_file(b"MZ not a form")))  # recognised from its content
    assert state.upload_error.startswith("Only JPEG or PNG")
    state.reply({"body": "The form"})
    assert state.error == ATTACHMENT_REFUSED and _messages() == 1  # held until fixed
    asyncio.run(state.attach(_file(PNG + b"\x00" * 400)))
    assert state.upload_error.startswith("The file is too large")

    asyncio.run(state.attach(_file(PNG)))
    assert state.upload_error == ""
    other = state_of(AdminTicketState, token_for(staff), query=f"?id={ticket}")
    asyncio.run(other.attach(_file(PNG)))  # the staff member's own quota of unsent uploads
    assert other.upload_error.startswith("You have 1 uploads not sent yet")

    state.remove_attachment()  # removed: the unsent upload goes, the reply leaves without
    state.reply({"body": "No form after all."})
    assert state.error == "" and state.messages[-1]["attachment"] == "" and _messages() == 2
    with db.read() as conn:
        assert storage.unsent_count(conn, staff) == 0


def test_only_admins_attach_on_the_staff_page_and_only_their_own_uploads(database):
    alice, staff = make_user("alice@example.com"), _staff()
    ticket = open_ticket(alice)
    lazy = make_user("lazy@example.com", admin=True)  # no 2FA: not an admin session
    for token in ("", token_for(alice), token_for(lazy)):
        forged = state_of(AdminTicketState, token, query=f"?id={ticket}")
        asyncio.run(forged.attach(_file(PNG)))
        forged.reply({"body": "forged"})
        assert forged.attachment_name == "" and forged.access == "denied"
    with db.read() as conn:
        assert storage.unsent_count(conn, alice) == storage.unsent_count(conn, lazy) == 0
    assert _messages() == 1

    with db.write() as conn:
        alices = storage.store(conn, purpose="support", owner_id=alice, data=PNG)
    with pytest.raises(SupportError, match="Attach the file again"), db.write() as conn:
        support.staff_reply(conn, staff, ticket, "Someone else's file", attachment_id=alices.id)


def test_every_staff_view_of_a_private_document_is_audited(database):
    alice, staff = make_user("alice@example.com"), _staff()
    submit(alice)
    with db.write() as conn:
        receipt = storage.store(conn, purpose="support", owner_id=alice, data=PNG)
        kyc_document = storage.get(conn, conn.scalar(
            select(func.min(_files.c.id)).where(_files.c.purpose == "kyc")))
    assert kyc_document is not None and kyc_document.owner_id == alice
    open_ticket(alice, attachment_id=receipt.id)
    client = TestClient(api)

    assert client.get(storage.url(receipt), headers=_cookie(alice)).status_code == 200
    assert _views(f"support file {receipt.id}") == []  # the owner's own look: not staff
    for _ in range(2):
        assert client.get(storage.url(receipt), headers=_cookie(staff)).status_code == 200
        assert client.get(storage.url(kyc_document), headers=_cookie(staff)).status_code == 200
    support_views = _views(f"support file {receipt.id}")
    kyc_views = _views(f"kyc file {kyc_document.id}")
    assert len(support_views) == len(kyc_views) == 2  # each look, not just the first
    assert {(e.admin_email, e.detail) for e in support_views + kyc_views} == {
        ("support@example.com", f"owner user {alice}")}
    assert client.get("/documents/not-a-token", headers=_cookie(staff)).status_code == 404
    with db.read() as conn:
        assert len(search(conn, action="document_view")) == 4  # nothing for a missing file

