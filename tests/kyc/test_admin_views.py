"""The admin verification screen's rows (queue, one submission), built from a real database
without Reflex."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bitchange import db
from bitchange.clock import freeze
from bitchange.kyc import LEVELS, admin_views
from tests.kyc.test_kyc import IDENTITY, submit
from tests.staking.conftest import make_user

MOMENT = datetime(2031, 5, 6, 7, 8, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("books")


def test_queue_and_submission_as_the_admin_sees_them(database):
    alice = make_user("alice@example.com")
    with freeze(lambda: MOMENT):
        submission_id = submit(alice)
    with db.read() as conn:
        queue = admin_views.queue_rows(conn)
        page = admin_views.submission_page(conn, submission_id)
        missing = admin_views.submission_page(conn, submission_id + 1000)
    level = f"1 · {LEVELS[1]}"
    assert queue == [{"id": str(submission_id), "email": "alice@example.com", "level": level,
                      "created": "2031-05-06 07:08 UTC"}]
    assert page is not None and missing is None
    assert page.selected == {"id": str(submission_id), "email": "alice@example.com",
                             "level": level, "status": "pending",
                             "created": "2031-05-06 07:08 UTC"}
    assert ["Full name", IDENTITY.full_name] in page.details
    assert page.documents and all(d["url"].startswith("/documents/") for d in page.documents)
    assert [d["image"] for d in page.documents][:2] == ["yes", "yes"]  # a JPEG, then a PNG
