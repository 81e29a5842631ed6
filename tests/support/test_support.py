"""Support tickets: users open, reply and close their own tickets; staff triage, reply (the user
is emailed) and write internal notes users never see; attachments follow the private-file
rules."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bitchange import db
from bitchange.accounts.audit import search
from bitchange.accounts.sessions import activate_session, start_session
from bitchange.documents import storage
from bitchange.documents.storage import DocumentError
from bitchange.mail.outbox import deliver_due
from bitchange.support import service as support
from bitchange.support.service import SupportError
from tests.mailbox import link_to, text_of
from tests.staking.conftest import make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

pytestmark = pytest.mark.usefixtures("books")


def open_ticket(user_id: int, subject: str = "Withdrawal stuck", category: str = "withdrawals",
                attachment_id: int | None = None) -> int:
    with db.write() as conn:
        return support.open_ticket(conn, user_id, subject=subject, category=category,
                                   body="My withdrawal has been pending for a day.",
                                   attachment_id=attachment_id)


def test_a_ticket_from_opening_to_closing(database, admin, smtp_server):
    alice = make_user("alice@example.com")
    ticket = open_ticket(alice)
    with db.write() as conn:
        support.staff_reply(conn, admin, ticket, "Checking with the team.", internal=True)
        support.staff_reply(conn, admin, ticket, "It was sent a minute ago, see txid abc.")
    with db.read() as conn:
        summary, messages = support.thread(conn, ticket, viewer_id=alice, staff=False)
        _, staff_view = support.thread(conn, ticket, viewer_id=admin, staff=True)
    assert summary.status == "waiting_on_user"
    assert [m.kind for m in messages] == ["user", "staff"]  # no internal note for the user
    assert messages[1].author == "BitChange support"
    assert [m.kind for m in staff_view] == ["user", "note", "staff"]

    deliver_due()
    email = smtp_server.wait_for("alice@example.com", f"New reply to your ticket #{ticket}")
    assert link_to(email, f"/support/ticket?id={ticket}")
    assert "Checking with the team" not in text_of(email)

    with db.write() as conn:
        support.user_reply(conn, alice, ticket, "Got it, thanks!")
    with db.read() as conn:
        assert support.thread(conn, ticket, viewer_id=alice, staff=False)[0].status == "open"
    with db.write() as conn:
        support.user_close(conn, alice, ticket)
    with pytest.raises(SupportError, match="closed"), db.write() as conn:
        support.user_reply(conn, alice, ticket, "one more thing")
    assert len(smtp_server.to("alice@example.com")) == 1  # notes and user replies: no email


def test_users_only_reach_their_own_tickets(database, admin):
    alice = make_user("alice@example.com")
    mallory = make_user("mallory@example.com")
    ticket = open_ticket(alice)
    with db.read() as conn:
        with pytest.raises(SupportError, match="Unknown ticket"):
            support.thread(conn, ticket, viewer_id=mallory, staff=False)
        assert support.tickets_of(conn, mallory) == []
    for action in (lambda c: support.user_reply(c, mallory, ticket, "hi"),
                   lambda c: support.user_close(c, mallory, ticket)):
        with pytest.raises(SupportError, match="Unknown ticket"), db.write() as conn:
            action(conn)


def test_staff_queue_filters_status_priority_and_audit(database, admin, clock):
    alice = make_user("alice@example.com")
    clock.set(2026, 3, 1, 9, 0)
    old = open_ticket(alice, "Old login problem", "account")
    clock.set(2026, 3, 9, 9, 0)
    new = open_ticket(alice, "Deposit missing", "deposits")
    clock.set(2026, 3, 10, 9, 0)
    with db.write() as conn:
        support.set_priority(conn, admin, new, "urgent", ip="10.0.0.9")
        support.set_status(conn, admin, old, "resolved", ip="10.0.0.9")
    with db.read() as conn:
        assert [t.id for t in support.queue(conn)] == [new, old]  # urgent first
        assert [t.id for t in support.queue(conn, status="resolved")] == [old]
        assert [t.id for t in support.queue(conn, category="deposits")] == [new]
        assert [t.id for t in support.queue(conn, age="3d")] == [old]
        assert [t.id for t in support.queue(conn, age="7d")] == [old]
        actions = {(e.action, e.target) for e in search(conn)}
    assert {("ticket_priority", f"ticket {new}"), ("ticket_status", f"ticket {old}")} <= actions
    with db.write() as conn:
        support.set_status(conn, admin, old, "closed")
    with db.read() as conn:
        assert [t.id for t in support.queue(conn)] == [new]  # closed ones are hidden by default
        assert {t.id for t in support.queue(conn, status="all")} == {new, old}
    with pytest.raises(SupportError), db.write() as conn:
        support.set_status(conn, admin, new, "bogus")


def test_validation(database):
    alice = make_user("alice@example.com")
    with pytest.raises(SupportError, match="subject"):
        open_ticket(alice, "hi")
    with pytest.raises(SupportError, match="category"):
        open_ticket(alice, category="lottery")
    with pytest.raises(SupportError, match="Write a message"), db.write() as conn:
        support.open_ticket(conn, alice, subject="Empty body", category="other", body=" ")


def _cookie_for(user_id: int) -> dict[str, str]:
    with db.write() as conn:
        token = activate_session(conn, start_session(conn, user_id))
    return {"cookie": f"bc_session={token}"}


def test_attachments_are_checked_and_served_to_the_owner_and_staff_only(database, admin):
    from bitchange.accounts import totp
    from bitchange.web import api

    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    with db.write() as conn:
        totp.enable_with_secret(conn, admin, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        with pytest.raises(DocumentError):
            storage.store(conn, purpose="support", owner_id=alice, data=b"#!/bin/sh\nrm -rf /")
        stored = storage.store(conn, purpose="support", owner_id=alice, data=PNG)
        bobs = storage.store(conn, purpose="support", owner_id=bob, data=PNG)
    with pytest.raises(SupportError, match="Attach the file again"):
        open_ticket(alice, attachment_id=bobs.id)  # someone else's upload
    open_ticket(alice, attachment_id=stored.id)
    client = TestClient(api)
    url = storage.url(stored)
    assert client.get(url).status_code == 404
    assert client.get(url, headers=_cookie_for(bob)).status_code == 404
    assert client.get(url, headers=_cookie_for(alice)).content == PNG
    assert client.get(url, headers=_cookie_for(admin)).content == PNG
    # An upload that was never attached to a ticket is not served to its uploader either.
    assert client.get(storage.url(bobs), headers=_cookie_for(bob)).status_code == 404


def test_a_new_result_on_a_ticket_replaces_the_old_error(database):
    from bitchange.state.support import TicketState
    from tests.accounts.test_handlers import state_of

    alice = make_user("alice@example.com")
    ticket = open_ticket(alice)
    with db.write() as conn:
        token = activate_session(conn, start_session(conn, alice))
    page = state_of(TicketState, token, query=f"?id={ticket}")
    page.load()
    page.reply({"body": ""})  # refused: an empty reply
    assert page.error != ""
    page.close()
    assert (page.error, page.ticket["status"]) == ("", "closed")
