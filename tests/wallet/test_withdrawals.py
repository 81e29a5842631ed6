"""Withdrawals: the whole state machine with its ledger movements and emails, every refusal
(nothing changes), invalid transitions, four-eyes approval, limits, pauses and expiry."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select, update

from bitchange import db, ledger
from bitchange.accounts import admin, email_tokens, security, throttle
from bitchange.accounts.audit import search
from bitchange.db.models import User
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from bitchange.wallet import address_book, controls, history, pricing, withdrawals
from bitchange.wallet.errors import InvalidTransition, WalletError
from bitchange.wallet.tables import Withdrawal, WithdrawalEvent
from bitchange.wallet.withdrawals import TRANSITIONS
from tests.wallet.conftest import (
    BTC,
    BTC_ADDRESS,
    ETH_ADDRESS,
    USDT,
    emails,
    make_person,
    set_price,
    token_in,
)

TXID = "9f" * 32
_w = Withdrawal.__table__


@pytest.fixture
def w(world, settings):  # type: ignore[no-untyped-def]
    settings(WITHDRAWAL_FEES="BTC=0.0002,ETH=0.002,USDT=5",
             WITHDRAWAL_MINIMUMS="BTC=0.001,ETH=0.01,USDT=20",
             WITHDRAWAL_DAILY_LIMIT_USDT="50000", WITHDRAWAL_FOUR_EYES_USDT="10000",
             WITHDRAWAL_ADDRESS_HOLD_HOURS="24", WITHDRAWAL_SECURITY_LOCK_HOURS="24",
             WITHDRAWAL_CONFIRM_MINUTES="30")
    set_price("BTC-USDT", 60_000 * USDT)
    world.btc_address = ready_address(world, world.alice, "BTC", BTC_ADDRESS)
    return world


def ready_address(world, person, asset: str, address: str) -> int:  # type: ignore[no-untyped-def]
    """Add, confirm from the email and wait out the hold."""
    with db.write() as conn:
        entry_id = address_book.add(conn, person.user_id, asset, address)
    token = token_in(emails(person.email, "address_added")[-1])
    with db.write() as conn:
        address_book.confirm(conn, token)
    world.clock.advance(hours=24, minutes=1)
    return entry_id


def request(w, amount: int = BTC // 10, *, person=None, address_id=None,  # type: ignore[no-untyped-def]
            code: str | None = None) -> int:
    person = person or w.alice
    return withdrawals.request(person.user_id, address_id or w.btc_address, amount,
                               code if code is not None else w.clock.code(person.secret),
                               ip="10.1.1.1")


def status(withdrawal_id: int) -> str:
    with db.read() as conn:
        return conn.scalar(select(_w.c.status).where(_w.c.id == withdrawal_id))


def confirm_by_email(w, person=None):  # type: ignore[no-untyped-def]
    person = person or w.alice
    token = token_in(emails(person.email, "withdrawal_requested")[-1])
    with db.write() as conn:
        return withdrawals.confirm(conn, token, ip="10.1.1.1")


def act(fn, *args, **kw):  # type: ignore[no-untyped-def]
    with db.write() as conn:
        return fn(conn, *args, **kw)


def count_withdrawals() -> int:
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(_w))


def _fees_btc() -> int:
    with db.read() as conn:
        return ledger.balances_of(conn, ledger.system_account(conn, ledger.FEES))["BTC"][0]


def test_request_confirm_approve_send(w):
    start, fees_before = w.alice.balance("BTC"), _fees_btc()
    withdrawal_id = request(w)
    assert status(withdrawal_id) == "awaiting_email"
    assert w.alice.balance("BTC") == (start[0] - BTC // 10, start[1] + BTC // 10)
    [mail] = emails(w.alice.email, "withdrawal_requested")
    assert "0.10000000 BTC" in mail.text_body and BTC_ADDRESS in mail.text_body
    assert "0.09980000 BTC" in mail.text_body  # what the recipient gets after the fee

    confirm_by_email(w)
    assert status(withdrawal_id) == "pending_review"
    with pytest.raises(WalletError, match="invalid, used or expired"):
        confirm_by_email(w)  # the link is single use

    with db.read() as conn:
        [item] = withdrawals.review_queue(conn)
    assert item.withdrawal.id == withdrawal_id and item.email == w.alice.email
    assert item.account_age_days == 11 and item.address_age_hours == 24
    assert item.withdrawal.value_usdt == 6_000 * USDT and not item.withdrawal.needs_two_approvals

    assert act(withdrawals.approve, w.admin.user_id, withdrawal_id, ip="10.9.9.9") == "approved"
    act(withdrawals.mark_sent, w.admin2.user_id, withdrawal_id, TXID, ip="10.9.9.9")
    assert status(withdrawal_id) == "sent"
    assert w.alice.balance("BTC") == (start[0] - BTC // 10, start[1])
    with db.read() as conn:
        [view] = withdrawals.of_user(conn, w.alice.user_id)
        rows = history.entries(conn, w.alice.user_id, history.Filters(asset="BTC"))
        events = list(conn.execute(select(WithdrawalEvent.__table__.c.action).where(
            WithdrawalEvent.__table__.c.withdrawal_id == withdrawal_id)
            .order_by(WithdrawalEvent.__table__.c.id)).scalars())
        audited = [e.action for e in search(conn, target=f"withdrawal {withdrawal_id}")]
    assert _fees_btc() - fees_before == 20_000  # the network fee
    assert (view.status, view.txid) == ("sent", TXID)
    assert events == ["request", "confirm", "approve", "mark_sent"]
    assert audited == ["withdrawal_mark_sent", "withdrawal_approve"]
    kinds = [m.kind for m in emails(w.alice.email) if m.kind.startswith("withdrawal_")]
    assert kinds == ["withdrawal_requested", "withdrawal_pending_review",
                     "withdrawal_approved", "withdrawal_sent"]
    assert TXID in emails(w.alice.email, "withdrawal_sent")[0].text_body
    assert {(r.type, r.amount) for r in rows if r.ref == f"W{withdrawal_id}"} == {
        ("withdrawal", -(BTC // 10 - 20_000)), ("fee", -20_000)}


def test_user_cancels_before_approval_and_funds_return(w):
    start = w.alice.balance("BTC")
    first = request(w)
    act(withdrawals.cancel, w.alice.user_id, first)
    assert status(first) == "cancelled"
    second = request(w)
    confirm_by_email(w)
    with pytest.raises(WalletError, match="No such withdrawal"):
        act(withdrawals.cancel, w.bob.user_id, second)  # not Bob's
    act(withdrawals.cancel, w.alice.user_id, second)
    third = request(w)
    confirm_by_email(w)
    act(withdrawals.approve, w.admin.user_id, third)
    with pytest.raises(InvalidTransition, match="approved cannot be cancelled"):
        act(withdrawals.cancel, w.alice.user_id, third)
    act(withdrawals.reject, w.admin.user_id, third, "address flagged by the screening")
    assert [status(i) for i in (first, second, third)] == ["cancelled", "cancelled", "rejected"]
    assert w.alice.balance("BTC") == start
    rejected = emails(w.alice.email, "withdrawal_rejected")[0]
    assert "address flagged by the screening" in rejected.text_body
    assert len(emails(w.alice.email, "withdrawal_cancelled")) == 2


def test_cancel_from_the_emailed_link(w):
    start = w.alice.balance("BTC")
    withdrawal_id = request(w)
    token = token_in(emails(w.alice.email, "withdrawal_requested")[-1])
    act(withdrawals.cancel_by_token, token)
    assert status(withdrawal_id) == "cancelled" and w.alice.balance("BTC") == start
    with pytest.raises(WalletError):
        act(withdrawals.confirm, token)


def test_unconfirmed_requests_expire_and_release(w):
    start = w.alice.balance("BTC")
    withdrawal_id = request(w)
    token = token_in(emails(w.alice.email, "withdrawal_requested")[-1])
    w.clock.advance(minutes=29)
    with db.read() as conn:
        assert withdrawals.by_token(conn, token) is not None
    w.clock.advance(minutes=2)
    with pytest.raises(WalletError, match="expired"):
        act(withdrawals.confirm, token)
    # The scheduled job does it (bitchange.jobs.tasks.expire_withdrawals, every 5 minutes).
    from bitchange.jobs import tasks

    assert tasks.expire_withdrawals() == "1 unconfirmed withdrawal requests expired"
    assert status(withdrawal_id) == "cancelled" and w.alice.balance("BTC") == start
    assert "email confirmation expired" in emails(w.alice.email,
                                                  "withdrawal_cancelled")[0].text_body


def _drive_to(w, target: str) -> int:  # type: ignore[no-untyped-def]
    withdrawal_id = request(w)
    if target == "awaiting_email":
        return withdrawal_id
    if target == "cancelled":
        act(withdrawals.cancel, w.alice.user_id, withdrawal_id)
        return withdrawal_id
    confirm_by_email(w)
    if target == "pending_review":
        return withdrawal_id
    if target == "rejected":
        act(withdrawals.reject, w.admin.user_id, withdrawal_id, "no")
        return withdrawal_id
    act(withdrawals.approve, w.admin.user_id, withdrawal_id)
    if target == "sent":
        act(withdrawals.mark_sent, w.admin.user_id, withdrawal_id, TXID)
    return withdrawal_id


ACTIONS = ["confirm", "cancel", "expire", "approve", "reject", "mark_sent", "freeze"]
STATUSES = ["awaiting_email", "pending_review", "approved", "sent", "rejected", "cancelled"]


@pytest.mark.parametrize("current", STATUSES)
def test_no_other_transition_is_possible(w, current):
    withdrawal_id = _drive_to(w, current)
    assert status(withdrawal_id) == current
    balance = w.alice.balance("BTC")
    refused = [a for a in ACTIONS if (a, current) not in TRANSITIONS]
    for action in refused:
        with pytest.raises(InvalidTransition):
            act(withdrawals._transition, withdrawal_id, action, actor_id=w.admin.user_id,
                actor_role="admin")
    # ...and through the public functions too.
    public = {
        "cancel": lambda: act(withdrawals.cancel, w.alice.user_id, withdrawal_id),
        "approve": lambda: act(withdrawals.approve, w.admin2.user_id, withdrawal_id),
        "reject": lambda: act(withdrawals.reject, w.admin2.user_id, withdrawal_id, "x"),
        "mark_sent": lambda: act(withdrawals.mark_sent, w.admin2.user_id, withdrawal_id, TXID),
    }
    for action in refused:
        if action in public:
            with pytest.raises(InvalidTransition):
                public[action]()
    assert status(withdrawal_id) == current
    assert w.alice.balance("BTC") == balance
    if current in ("sent", "rejected", "cancelled"):
        assert not [a for a in ACTIONS if (a, current) in TRANSITIONS]  # terminal


def test_transition_table_is_exactly_the_documented_one():
    assert TRANSITIONS == {
        ("confirm", "awaiting_email"): "pending_review",
        ("cancel", "awaiting_email"): "cancelled",
        ("expire", "awaiting_email"): "cancelled",
        ("cancel", "pending_review"): "cancelled",
        ("approve", "pending_review"): "approved",
        ("reject", "pending_review"): "rejected",
        ("reject", "approved"): "rejected",
        ("mark_sent", "approved"): "sent",
        ("freeze", "awaiting_email"): "rejected",
        ("freeze", "pending_review"): "rejected",
        ("freeze", "approved"): "rejected",
    }


def test_four_eyes_above_the_threshold(w):
    withdrawal_id = request(w, BTC // 4)  # 15,000 USDT >= 10,000
    confirm_by_email(w)
    assert "first approval" in act(withdrawals.approve, w.admin.user_id, withdrawal_id)
    assert status(withdrawal_id) == "pending_review"
    with pytest.raises(WalletError, match="second, different admin"):
        act(withdrawals.approve, w.admin.user_id, withdrawal_id)
    with pytest.raises(InvalidTransition):  # not sendable before the second approval
        act(withdrawals.mark_sent, w.admin2.user_id, withdrawal_id, TXID)
    assert act(withdrawals.approve, w.admin2.user_id, withdrawal_id) == "approved"
    with db.read() as conn:
        row = conn.execute(select(_w).where(_w.c.id == withdrawal_id)).one()
    assert (row.first_approver, row.second_approver) == (w.admin.user_id, w.admin2.user_id)


def test_admins_cannot_review_their_own_withdrawal(w):
    w.admin.secret = w.admin.secret  # admins have 2FA like everyone who withdraws
    with db.write() as conn:
        ledger.credit_deposit(conn, w.admin.account, "BTC", BTC)
    address_id = ready_address(w, w.admin, "BTC", BTC_ADDRESS)
    withdrawal_id = request(w, person=w.admin, address_id=address_id)
    confirm_by_email(w, w.admin)
    for fn, args in ((withdrawals.approve, ()), (withdrawals.reject, ("x",))):
        with pytest.raises(WalletError, match="own withdrawals"):
            act(fn, w.admin.user_id, withdrawal_id, *args)
    act(withdrawals.approve, w.admin2.user_id, withdrawal_id)


def _set_user(w, **values) -> None:  # type: ignore[no-untyped-def]
    with db.write() as conn:
        conn.execute(update(User.__table__).where(User.__table__.c.id == w.alice.user_id)
                     .values(**values))


REFUSALS = {
    "2fa off": (lambda w: _set_user(w, totp_enabled_at=None), {}, "Turn on two-factor"),
    "frozen": (lambda w: _set_user(w, frozen_at=w.clock.now()), {}, "frozen"),
    "unverified": (lambda w: _set_user(w, email_verified_at=None), {}, "Confirm your email"),
    "password changed": (lambda w: _set_user(
        w, password_changed_at=w.clock.now() - timedelta(hours=23)), {},
        "recent password change"),
    "2fa re-enabled": (lambda w: _set_user(
        w, totp_enabled_at=w.clock.now() - timedelta(hours=2)), {}, "recent two-factor change"),
    "all paused": (lambda w: act(controls.set_paused, w.admin.user_id, "*", True,
                                 reason="incident"), {}, "paused all withdrawals: incident"),
    "asset paused": (lambda w: act(controls.set_paused, w.admin.user_id, "BTC", True), {},
                     "paused BTC withdrawals"),
    "below minimum": (None, {"amount": 99_999}, "minimum withdrawal is 0.00100000 BTC"),
    "not above fee": (lambda w: w.settings_(WITHDRAWAL_MINIMUMS="BTC=0"), {"amount": 20_000},
                      "more than the network fee"),
    "insufficient": (lambda w: w.settings_(WITHDRAWAL_DAILY_LIMIT_USDT="1000000"),
                     {"amount": 2 * BTC + 1}, "Insufficient available BTC"),
    "daily limit": (None, {"amount": BTC}, "daily withdrawal limit"),  # 60,000 > 50,000
    "wrong code": (None, {"code": "000000"}, "2FA code is not valid"),
    "not my address": (None, {"address_id": 10_000}, "Choose an address"),
    "zero": (None, {"amount": 0}, "greater than zero"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_requests_change_nothing(w, settings, case):
    prepare, kwargs, message = REFUSALS[case]
    w.settings_ = settings
    if prepare:
        prepare(w)
    balance = w.alice.balance("BTC")
    outbox = len(emails(w.alice.email))
    with pytest.raises(WalletError, match=message):
        request(w, **kwargs)
    assert count_withdrawals() == 0
    assert w.alice.balance("BTC") == balance
    assert len(emails(w.alice.email)) == outbox


def test_a_wrong_code_is_throttled_and_a_replayed_code_refused(w):
    for _ in range(5):
        with pytest.raises(WalletError, match="not valid"):
            request(w, code="123456")
    with pytest.raises(WalletError, match="Too many attempts"):  # even with a right code
        request(w, code=pyotp.TOTP(w.alice.secret).at(w.clock.now()))
    w.clock.advance(minutes=16)
    code = w.clock.code()
    request(w, code=code)
    with pytest.raises(WalletError, match="not valid"):
        request(w, code=code)  # the same code again
    assert count_withdrawals() == 1


def test_unconfirmed_or_held_addresses_cannot_be_used(w):
    with db.write() as conn:
        entry_id = address_book.add(conn, w.alice.user_id, "BTC",
                                    "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g")
    with pytest.raises(WalletError, match="Confirm this address"):
        request(w, address_id=entry_id)
    token = token_in(emails(w.alice.email, "address_added")[-1])
    act(address_book.confirm, token)
    with pytest.raises(WalletError, match="address is new"):
        request(w, address_id=entry_id)
    w.clock.advance(hours=24)
    request(w, address_id=entry_id)


def test_daily_limit_is_a_rolling_24_hours_and_ignores_cancelled(w):
    first = request(w, BTC // 2)  # 30,000 USDT
    with pytest.raises(WalletError, match=r"30,000\.00 USDT is used"):
        request(w, BTC // 2)
    act(withdrawals.cancel, w.alice.user_id, first)
    second = request(w, BTC // 2)
    w.clock.advance(hours=23)
    with pytest.raises(WalletError, match="daily withdrawal limit"):
        request(w, BTC // 2)
    w.clock.advance(hours=1, minutes=1)
    act(withdrawals.cancel, w.alice.user_id, second)
    request(w, BTC // 2)


def test_an_unpriced_asset_is_refused_not_valued_at_zero(w):
    with db.write() as conn:
        ledger.credit_deposit(conn, w.alice.account, "ETH", 10**9)
    address_id = ready_address(w, w.alice, "ETH", ETH_ADDRESS)
    with pytest.raises(WalletError, match="ETH has no market price"):
        request(w, 10**8, address_id=address_id)
    set_price("ETH-USDT", 3_000 * USDT)
    request(w, 10**8, address_id=address_id)


def test_resuming_a_pause_allows_withdrawals_again_and_is_audited(w):
    act(controls.set_paused, w.admin.user_id, "*", True, reason="maintenance", ip="10.9.9.9")
    with pytest.raises(WalletError, match="maintenance"):
        request(w)
    act(controls.set_paused, w.admin.user_id, "*", False, ip="10.9.9.9")
    request(w)
    with db.read() as conn:
        actions = [e.action for e in search(conn, target="all assets")]
    assert actions == ["withdrawals_resumed", "withdrawals_paused"]


def test_throttle_scope_is_shared_with_the_security_centre(w):
    with db.read() as conn:
        assert throttle.retry_after(conn, "reauth", w.alice.email) is None


def test_the_verification_level_limit_applies_when_lower(w, settings):
    settings(KYC_WITHDRAWAL_LIMITS_USDT="0=2000,1=50000,2=250000",
             KYC_TRANSFER_LIMITS_USDT="0=100,1=50000,2=250000")
    with pytest.raises(WalletError, match=r"2,000\.00 USDT per 24 hours"):
        request(w, BTC // 10)  # 6,000 USDT at level 0
    request(w, BTC // 100)  # 600 USDT
    from bitchange.wallet import transfers

    with pytest.raises(WalletError, match=r"daily transfer limit of 100\.00 USDT"):
        transfers.send(w.alice.user_id, w.bob.email, "USDT", 101 * USDT, "", w.clock.code())


# --- security review: wash-trade pricing, frozen accounts, the form's asset -------------------

def test_a_wash_trade_at_a_low_price_does_not_lower_limit_valuations(w):
    set_price("BTC-USDT", 60_000 * USDT)  # the market today
    set_price("BTC-USDT", 1_000 * USDT)  # two accounts trade 0.01 BTC with each other: 10 USDT
    with db.read() as conn:
        assert pricing.last_price(conn, "BTC") == 1_000 * USDT  # the wash trade is the last
        assert pricing.limit_price(conn, "BTC") == 60_000 * USDT  # the 24h high
    with pytest.raises(WalletError, match="daily withdrawal limit"):
        request(w, BTC)  # still 60,000 USDT > 50,000, not 1,000 USDT
    withdrawal_id = request(w, BTC // 4)
    with db.read() as conn:
        row = conn.execute(select(_w).where(_w.c.id == withdrawal_id)).one()
    assert row.value_usdt == 15_000 * USDT and row.needs_two_approvals  # four-eyes stays on


def test_the_best_open_bid_floors_the_limit_price(w):
    w.clock.advance(hours=25)  # yesterday's trades are out of the 24h window
    set_price("BTC-USDT", 1_000 * USDT)
    bidder = make_person("bidder@example.com", two_factor=False,
                         funds={"USDT": 1_000 * USDT})
    service.place_order(bidder.user_id, "BTC-USDT",
                        OrderRequest("BUY", "limit", 59_000 * USDT, 1_000_000))
    with db.read() as conn:
        assert pricing.limit_price(conn, "BTC") == 59_000 * USDT
    with pytest.raises(WalletError, match="daily withdrawal limit"):
        request(w, BTC)


def _events_of(withdrawal_id: int) -> list[tuple[str, str, str]]:
    events = WithdrawalEvent.__table__
    with db.read() as conn:
        return [(e.action, e.actor_role, e.detail) for e in conn.execute(
            select(events).where(events.c.withdrawal_id == withdrawal_id)
            .order_by(events.c.id))]


def test_freezing_rejects_every_open_withdrawal_and_releases_the_funds(w):
    start = w.alice.balance("BTC")
    awaiting = request(w)
    reviewing = request(w)
    confirm_by_email(w)
    approved = request(w)
    confirm_by_email(w)
    act(withdrawals.approve, w.admin.user_id, approved)
    sent = request(w)
    confirm_by_email(w)
    act(withdrawals.approve, w.admin.user_id, sent)
    act(withdrawals.mark_sent, w.admin.user_id, sent, TXID)
    token = token_in(emails(w.alice.email, "withdrawal_requested")[0])  # `awaiting`'s link

    act(admin.freeze, w.admin.user_id, w.alice.user_id, ip="10.9.9.9", reason="chargeback")

    open_ids = (awaiting, reviewing, approved)
    assert [status(i) for i in (*open_ids, sent)] == ["rejected"] * 3 + ["sent"]
    assert w.alice.balance("BTC") == (start[0] - BTC // 10, start[1])  # only `sent` left
    for withdrawal_id in open_ids:
        assert _events_of(withdrawal_id)[-1] == ("freeze", "system", "account frozen")
    rejected = emails(w.alice.email, "withdrawal_rejected")
    assert len(rejected) == 3 and all("rejected: account frozen" in m.text_body
                                      for m in rejected)
    with db.read() as conn:
        [entry] = search(conn, action="freeze")
        assert withdrawals.review_queue(conn) == []
    assert entry.detail == "chargeback; 3 open withdrawals rejected"
    with pytest.raises(WalletError, match="invalid, used or expired"), db.write() as conn:
        withdrawals.confirm(conn, token)


def test_this_wasnt_me_rejects_open_withdrawals(w):
    start = w.alice.balance("BTC")
    withdrawal_id = request(w)
    confirm_by_email(w)
    with db.write() as conn:
        assert security.report_not_me(conn, email_tokens.issue(conn, w.alice.user_id,
                                                                "not_me"))
    assert status(withdrawal_id) == "rejected" and w.alice.balance("BTC") == start
    assert _events_of(withdrawal_id)[-1] == ("freeze", "system", "account frozen")


def test_a_frozen_users_withdrawal_cannot_move_toward_payout(w):
    awaiting = request(w)
    approved = request(w)
    confirm_by_email(w)
    act(withdrawals.approve, w.admin.user_id, approved)
    _set_user(w, frozen_at=w.clock.now(), frozen_reason="support")  # frozen without the hook
    balance = w.alice.balance("BTC")
    with pytest.raises(WalletError, match="frozen"):
        act(withdrawals.mark_sent, w.admin2.user_id, approved, TXID)
    token = token_in(emails(w.alice.email, "withdrawal_requested")[0])  # `awaiting`'s link
    with pytest.raises(WalletError, match="frozen"), db.write() as conn:
        withdrawals.confirm(conn, token)
    assert (status(awaiting), status(approved)) == ("awaiting_email", "approved")
    assert w.alice.balance("BTC") == balance
    with db.read() as conn:
        queue = withdrawals.review_queue(conn)
    assert [(i.withdrawal.id, i.frozen) for i in queue] == [(awaiting, True), (approved, True)]
    assert all(i.security_change.startswith("FROZEN") for i in queue)
    act(withdrawals.reject, w.admin2.user_id, approved, "account frozen")  # still possible
    assert status(approved) == "rejected"


def test_pending_review_of_a_frozen_user_cannot_be_approved(w):
    withdrawal_id = request(w)
    confirm_by_email(w)
    _set_user(w, frozen_at=w.clock.now())
    with pytest.raises(WalletError, match="frozen"):
        act(withdrawals.approve, w.admin.user_id, withdrawal_id)
    assert status(withdrawal_id) == "pending_review"


def test_an_address_of_another_asset_than_the_forms_is_refused(w):
    usdt_address = ready_address(w, w.alice, "USDT", ETH_ADDRESS)
    with pytest.raises(WalletError, match="That address is a USDT address; choose one of your "
                                          "BTC addresses"):
        withdrawals.request(w.alice.user_id, usdt_address, 100 * BTC, w.clock.code(),
                            asset="BTC")  # "100" parsed with BTC's 8 decimals
    assert count_withdrawals() == 0
