"""The verification screen's view (level, latest submission, the limits of every level),
built from a real database without Reflex."""

from __future__ import annotations

import pytest

from bitchange import db
from bitchange.kyc import LEVELS, limits_for
from bitchange.kyc import service as kyc
from bitchange.kyc.views import limit_rows, verification_view
from bitchange.trading.markets import format_usdt
from tests.kyc.test_kyc import ADDRESS, submit
from tests.staking.conftest import make_user

pytestmark = pytest.mark.usefixtures("books")


def _view(user_id: int):  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return verification_view(conn, user_id)


def test_a_new_user_is_asked_for_level_1(database):
    view = _view(make_user("alice@example.com"))
    assert (view.level, view.level_name, view.state, view.reason, view.next_level) == (
        0, LEVELS[0], "not_submitted", "", 1)
    assert [r["current"] for r in view.limits] == ["yes", "", ""]


def test_pending_rejected_approved_and_complete(database, admin):
    alice = make_user("alice@example.com")
    first = submit(alice)
    assert _view(alice).state == "pending"
    with db.write() as conn:
        kyc.reject(conn, admin, first, "The photo of the ID is blurred", ip="10.0.0.1")
    rejected = _view(alice)
    assert (rejected.state, rejected.reason, rejected.next_level) == (
        "rejected", "The photo of the ID is blurred", 1)
    second = submit(alice)
    with db.write() as conn:
        kyc.approve(conn, admin, second, ip="10.0.0.1")
    approved = _view(alice)
    assert (approved.level, approved.level_name, approved.state, approved.reason,
            approved.next_level) == (1, LEVELS[1], "approved", "", 2)
    assert [r["current"] for r in approved.limits] == ["", "yes", ""]
    address = submit(alice, 2, ADDRESS)
    with db.write() as conn:
        kyc.approve(conn, admin, address, ip="10.0.0.1")
    assert (_view(alice).level, _view(alice).next_level) == (2, 0)  # 0: fully verified


def test_limit_rows_show_each_levels_limits_in_usdt(database):
    rows = limit_rows(1)
    assert [r["level"] for r in rows] == [str(level) for level in LEVELS]
    assert [r["name"] for r in rows] == list(LEVELS.values())
    for row, level in zip(rows, LEVELS, strict=True):
        limits = limits_for(level)
        assert row["withdrawal"] == format_usdt(limits.withdrawal_usdt) + " USDT"
        assert row["transfer"] == format_usdt(limits.transfer_usdt) + " USDT"
    assert [r["current"] for r in rows] == ["", "yes", ""]
