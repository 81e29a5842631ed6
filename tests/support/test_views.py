"""The support screens' rows (the user's tickets and conversation, the staff queue and
thread), built from a real database without Reflex."""

from __future__ import annotations

import pytest

from bitchange import db, routes
from bitchange.documents import storage
from bitchange.support import service as support
from bitchange.support import views
from tests.staking.conftest import make_user
from tests.support.test_support import PNG, open_ticket

pytestmark = pytest.mark.usefixtures("books")


def test_a_ticket_row_links_the_side_that_reads_it(database, clock):
    alice = make_user("alice@example.com")
    clock.set(2026, 3, 1, 9, 0)
    ticket = open_ticket(alice)
    clock.set(2026, 3, 2, 10, 30)
    with db.write() as conn:
        support.user_reply(conn, alice, ticket, "Any news?")
    with db.read() as conn:
        [mine] = views.tickets_of(conn, alice)
        [queued] = views.queue_rows(conn)
        assert views.tickets_of(conn, make_user("bob@example.com")) == []
    assert mine == {"id": str(ticket), "subject": "Withdrawal stuck", "category": "Withdrawals",
                    "status": "open", "status_label": "Open", "priority": "normal",
                    "email": "alice@example.com", "created": "2026-03-01 09:00 UTC",
                    "updated": "2026-03-02 10:30 UTC",
                    "href": routes.support_ticket(ticket, staff=False)}
    assert queued == {**mine, "href": routes.support_ticket(ticket, staff=True)}
    assert ["withdrawals", "Withdrawals"] in views.CATEGORY_CHOICES


def test_the_queue_rows_follow_the_filters(database, admin):
    alice = make_user("alice@example.com")
    deposits = open_ticket(alice, "Deposit missing", "deposits")
    account = open_ticket(alice, "Locked out", "account")
    with db.write() as conn:
        support.set_status(conn, admin, account, "closed")
    with db.read() as conn:
        assert [r["id"] for r in views.queue_rows(conn)] == [str(deposits)]
        assert {r["id"] for r in views.queue_rows(conn, status="all")} == {
            str(deposits), str(account)}
        assert views.queue_rows(conn, category="trading") == []


def test_the_thread_hides_notes_from_the_user_and_links_attachments(database, admin):
    alice = make_user("alice@example.com")
    mallory = make_user("mallory@example.com")
    with db.write() as conn:
        receipt = storage.store(conn, purpose="support", owner_id=alice, data=PNG)
    ticket = open_ticket(alice, attachment_id=receipt.id)
    with db.write() as conn:
        support.staff_reply(conn, admin, ticket, "Looks like a bank delay.", internal=True)
        support.staff_reply(conn, admin, ticket, "It is on its way.")
    with db.read() as conn:
        users = views.thread_view(conn, ticket, viewer_id=alice, staff=False)
        staff = views.thread_view(conn, ticket, viewer_id=None, staff=True)
        assert views.thread_view(conn, ticket, viewer_id=mallory, staff=False) is None
        assert views.thread_view(conn, ticket + 99, viewer_id=None, staff=True) is None
    assert users is not None and staff is not None
    assert users.ticket["status"] == "waiting_on_user"
    assert users.ticket["href"] == routes.support_ticket(ticket, staff=False)
    assert staff.ticket["href"] == routes.support_ticket(ticket, staff=True)
    assert [(m["kind"], m["author"]) for m in users.messages] == [
        ("user", "alice@example.com"), ("staff", "BitChange support")]
    assert [(m["kind"], m["author"]) for m in staff.messages] == [
        ("user", "alice@example.com"), ("note", "admin@example.com"),
        ("staff", "admin@example.com")]
    first = users.messages[0]
    assert first["attachment"] == storage.url(receipt) and first["attachment_type"] == "image/png"
    assert users.messages[1]["attachment"] == "" and users.messages[1]["attachment_type"] == ""
