"""Support in a real browser: a user opens a ticket with an attachment, staff add an internal
note and reply, the user gets the email, follows its link and sees the reply but not the
note; the attachment is served to the owner only (and staff)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.extras_helpers import (
    ALICE,
    BOB,
    log_in_admin,
    log_in_trader,
    png,
    upload,
)
from tests.mailbox import link_to


def test_ticket_reply_by_staff_reaches_the_user(app, new_context, mailbox, console):
    user = new_context().new_page()
    log_in_trader(user, app, ALICE)
    user.goto(app.url + "/support")
    user.fill("#ticket-subject", "Where is my deposit?")
    user.select_option("#ticket-category", "deposits")
    user.fill("#ticket-body", "I sent 0.1 BTC an hour ago.")
    upload(user, "ticket-attachment", "receipt.png", "image/png", png())
    expect(user.locator("#ticket-attachment-done")).to_be_visible()
    user.click("#ticket-submit")
    expect(user.locator("#ticket-title")).to_contain_text("Where is my deposit?")
    ticket_url = user.url
    ticket_id = ticket_url.split("id=")[-1]
    attachment = user.locator(".message-attachment").first.get_attribute("href")
    assert user.request.get(app.url + attachment).status == 200  # the owner

    staff = new_context().new_page()
    log_in_admin(staff, app)
    staff.goto(app.url + "/admin/support")
    staff.locator("#support-queue .queue-row", has_text="Where is my deposit?").locator(
        "a").click()
    expect(staff.locator("#staff-ticket-title")).to_contain_text("Where is my deposit?")
    assert staff.request.get(app.url + attachment).status == 200  # staff
    staff.fill("#staff-body", "Internal: confirmations still pending on chain.")
    staff.click("#staff-internal")
    staff.click("#staff-send")
    expect(staff.locator("#staff-notice")).to_contain_text("Internal note added")
    staff.fill("#staff-body", "It has 1 confirmation out of 2; it will be credited soon.")
    staff.click("#staff-send")
    expect(staff.locator("#staff-notice")).to_contain_text("Reply sent")
    expect(staff.locator(".message-note")).to_have_count(1)
    staff.click("#priority-high")
    expect(staff.locator("#staff-ticket-priority")).to_have_text("high")

    email = mailbox.wait_for(ALICE, f"New reply to your ticket #{ticket_id}")
    user.goto(link_to(email, "/support/ticket?id="))
    expect(user.locator(".message-staff")).to_contain_text("will be credited soon")
    expect(user.locator("#ticket-status")).to_have_text("Waiting on you")
    expect(user.locator("#ticket-messages")).not_to_contain_text("confirmations still pending")

    other = new_context().new_page()
    log_in_trader(other, app, BOB)
    assert other.request.get(app.url + attachment).status == 404
    other.goto(ticket_url)
    expect(other.locator("#ticket-missing")).to_be_visible()
    assert console.errors == []


def test_a_refused_attachment_holds_the_ticket_until_it_is_removed(app, new_context, console):
    from bitchange.state.support import ATTACHMENT_REFUSED

    user = new_context().new_page()
    log_in_trader(user, app, BOB)
    user.goto(app.url + "/support")
    user.fill("#ticket-subject", "My statement")
    user.select_option("#ticket-category", "other")
    user.fill("#ticket-body", "The statement is attached.")
    upload(user, "ticket-attachment", "statement.png", "image/png", b"not really a PNG")
    expect(user.locator("#ticket-attachment-error")).to_contain_text("Only JPEG or PNG")
    user.click("#ticket-submit")
    expect(user.locator("#ticket-error")).to_have_text(ATTACHMENT_REFUSED)
    expect(user.locator("#tickets-table .ticket-row")).to_have_count(0)  # nothing was sent

    user.click("#ticket-attachment-remove")
    expect(user.locator("#ticket-attachment-error")).to_have_count(0)
    user.click("#ticket-submit")
    expect(user.locator("#ticket-title")).to_contain_text("My statement")
    assert console.errors == []


def test_staff_attach_a_file_to_their_reply(app, new_context, console):
    user = new_context().new_page()
    log_in_trader(user, app, ALICE)
    user.goto(app.url + "/support")
    user.fill("#ticket-subject", "Which form do I need?")
    user.select_option("#ticket-category", "verification")
    user.fill("#ticket-body", "For the address proof.")
    user.click("#ticket-submit")
    expect(user.locator("#ticket-title")).to_contain_text("Which form do I need?")
    ticket_url = user.url

    staff = new_context().new_page()
    log_in_admin(staff, app)
    staff.goto(app.url + "/admin/support/ticket?id=" + ticket_url.split("id=")[-1])
    expect(staff.locator("#staff-ticket-title")).to_contain_text("Which form do I need?")
    staff.fill("#staff-body", "This one, filled in and signed.")
    upload(staff, "staff-attachment", "form.png", "image/png", png())
    expect(staff.locator("#staff-attachment-done")).to_be_visible()
    staff.click("#staff-send")
    expect(staff.locator("#staff-notice")).to_contain_text("Reply sent")
    expect(staff.locator(".message-staff .message-attachment")).to_have_count(1)

    user.goto(ticket_url)
    link = user.locator(".message-staff .message-attachment")
    expect(link).to_have_count(1)
    assert user.request.get(app.url + link.get_attribute("href")).status == 200  # the owner
    assert console.errors == []
