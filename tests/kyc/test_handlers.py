"""The verification, staking, support and promo handlers, invoked directly as a forged
websocket event would invoke them: callers without the right session change nothing, and ids
in event arguments never reach another user's data."""

from __future__ import annotations

import asyncio
import io

import reflex as rx
from sqlalchemy import func, select

from bitchange import db
from bitchange.accounts import totp
from bitchange.accounts.sessions import activate_session, start_session
from bitchange.documents.tables import PrivateFile
from bitchange.kyc import service as kyc
from bitchange.promos.tables import PromoCode
from bitchange.staking import STAKING_REWARDS
from bitchange.staking import service as staking
from bitchange.state.admin.kyc import AdminKycState
from bitchange.state.admin.promos import AdminPromosState
from bitchange.state.admin.staking import AdminStakingState
from bitchange.state.admin.support import AdminTicketState
from bitchange.state.staking import StakingState
from bitchange.state.support import TicketState
from bitchange.state.verification import VerificationState
from bitchange.support import service as support
from bitchange.support.tables import SupportMessage
from tests.accounts.test_handlers import state_of
from tests.kyc.test_kyc import IDENTITY, PNG, submit
from tests.staking.conftest import USDT, available, make_user, system_balance
from tests.trading.test_concurrency import shared_database  # noqa: F401 - SQLite, PostgreSQL

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def token_for(user_id: int) -> str:
    with db.write() as conn:
        return activate_session(conn, start_session(conn, user_id))


def test_admin_handlers_refuse_traders_and_admins_without_2fa(database, books):
    alice = make_user("alice@example.com")
    lazy_admin = make_user("lazy@example.com", admin=True)  # no 2FA: not an admin session
    submission = submit(alice)
    for token in ("", token_for(alice), token_for(lazy_admin)):
        state = state_of(AdminKycState, token)
        state.selected = {"id": str(submission)}
        state.approve()
        state.reject({"reason": "forged rejection"})
        assert state.access == "denied"
        staking_state = state_of(AdminStakingState, token)
        staking_state.fund({"asset": "USDT", "amount": "1000", "source": "external"})
        staking_state.create({"asset": "USDT", "name": "Forged", "apr": "500", "lock_days": "0",
                              "min": "1", "max": "10", "capacity": "10"})
        promo_state = state_of(AdminPromosState, token)
        promo_state.create({"code": "FORGED", "asset": "USDT", "amount": "1000",
                            "total": "10"})
        promo_state.fund({"asset": "USDT", "amount": "1000"})
    with db.read() as conn:
        assert kyc.pending_of(conn, alice) == submission
        assert staking.list_products(conn) == []
        assert conn.scalar(select(func.count()).select_from(PromoCode.__table__)) == 0
    assert system_balance(STAKING_REWARDS, "USDT") == 0


def test_admin_with_2fa_is_served(database, books):
    alice = make_user("alice@example.com")
    admin = make_user("admin@example.com", admin=True)
    with db.write() as conn:
        totp.enable_with_secret(conn, admin, SECRET)
    submission = submit(alice)
    state = state_of(AdminKycState, token_for(admin))
    state.open(str(submission))
    assert [label for label, _ in state.details][:1] == ["Full name"]
    state.approve()
    assert state.notice == f"Submission {submission} approved."


def test_staff_handlers_refuse_traders(database, books):
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    with db.write() as conn:
        ticket = support.open_ticket(conn, alice, subject="Help me", category="other",
                                     body="Please")
    forged = state_of(AdminTicketState, token_for(bob), query=f"?id={ticket}")
    forged.reply({"body": "You won a prize, send BTC to ...", "internal": ""})
    forged.set_status("closed")
    assert forged.access == "denied"
    # Nor can bob read or answer alice's ticket as a user.
    user_view = state_of(TicketState, token_for(bob), query=f"?id={ticket}")
    user_view.load()
    assert user_view.access == "missing" and user_view.messages == []
    user_view.reply({"body": "hijack"})
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(SupportMessage.__table__)) == 1
        assert support.thread(conn, ticket, viewer_id=alice, staff=False)[0].status == "open"


def test_position_ids_from_the_page_only_reach_the_callers_positions(database, books):
    admin = make_user("admin@example.com", admin=True)
    alice = make_user("alice@example.com", {"USDT": 500 * USDT})
    bob = make_user("bob@example.com")
    with db.write() as conn:
        product = staking.create_product(conn, admin, asset="USDT", name="Flex", apr_bps=500,
                                         lock_days=0, min_amount=USDT,
                                         max_per_user=1_000 * USDT, capacity=10_000 * USDT)
        position = staking.stake(conn, alice, product, 100 * USDT)
    state = state_of(StakingState, token_for(bob))
    state.redeem(str(position))
    assert state.error == "Unknown position."
    state_of(StakingState).redeem(str(position))  # anonymous
    assert available(bob, "USDT") == 0
    assert available(alice, "USDT") == 400 * USDT
    own = state_of(StakingState, token_for(alice))
    own.stake({"product_id": str(product), "amount": "50"})
    assert own.notice.startswith("Staked 50 USDT")
    assert available(alice, "USDT") == 350 * USDT


def _upload(data: bytes) -> list[rx.UploadFile]:
    return [rx.UploadFile(file=io.BytesIO(data))]


def test_uploads_need_a_session_and_stay_with_their_owner(database, books):
    alice = make_user("alice@example.com")
    anonymous = state_of(VerificationState)
    asyncio.run(anonymous.upload_id_front(_upload(PNG)))
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(PrivateFile.__table__)) == 0
    state = state_of(VerificationState, token_for(alice))
    asyncio.run(state.upload_id_front(_upload(b"not an image")))
    assert "Only JPEG or PNG" in state.error
    for handler in (state.upload_id_front, state.upload_id_back, state.upload_selfie):
        asyncio.run(handler(_upload(PNG)))
    assert state.uploaded == {"id_front": "uploaded", "id_back": "uploaded",
                              "selfie": "uploaded"}
    state.next_level = 1
    state.submit({"full_name": IDENTITY.full_name, "date_of_birth": IDENTITY.date_of_birth,
                  "country": IDENTITY.country, "document_number": IDENTITY.document_number})
    assert state.error == ""
    with db.read() as conn:
        assert kyc.status_of(conn, alice).state == "pending"


def test_ids_and_counts_past_the_columns_change_nothing(shared_database):  # noqa: F811
    """Past 2^63 SQLite's driver raised OverflowError; past 2^31 PostgreSQL's INTEGER columns
    raised DataError. Every id, index and count from the browser goes through one parser."""
    admin = make_user("admin@example.com", admin=True)
    alice = make_user("alice@example.com", {"USDT": 500 * USDT})
    with db.write() as conn:
        totp.enable_with_secret(conn, admin, SECRET)
        product = staking.create_product(conn, admin, asset="USDT", name="Flex", apr_bps=500,
                                         lock_days=0, min_amount=USDT,
                                         max_per_user=1_000 * USDT, capacity=10_000 * USDT)
        position = staking.stake(conn, alice, product, 100 * USDT)
        ticket = support.open_ticket(conn, alice, subject="Help me", category="other",
                                     body="Please")
    alice_token, admin_token = token_for(alice), token_for(admin)
    for huge in ("99999999999999999999", str(2**31)):
        user_view = state_of(TicketState, alice_token, query=f"?id={huge}")
        user_view.load()
        assert user_view.access == "missing" and user_view.messages == []
        user_view.reply({"body": "hello"})
        assert user_view.error == "Unknown ticket." and user_view.access == "missing"
        staff_view = state_of(AdminTicketState, admin_token, query=f"?id={huge}")
        staff_view.load()
        assert staff_view.access == "admin" and staff_view.ticket == {}
        staff_view.set_status("closed")
        assert staff_view.error == "Unknown ticket."
        own = state_of(StakingState, alice_token)
        own.redeem(huge)
        assert own.error == "Unknown position."
        own.stake({"product_id": huge, "amount": "10"})
        assert own.error == "Choose a product."
        products = state_of(AdminStakingState, admin_token)
        products.set_status(huge, "closed")
        assert products.error == "Unknown product."
        products.create({"asset": "USDT", "name": "Long", "apr": "5", "lock_days": huge,
                         "min": "1", "max": "10", "capacity": "10"})
        assert products.error == "The lock period must be at most 2147483647"
        codes = state_of(AdminPromosState, admin_token)
        codes.create({"code": "BIG", "asset": "USDT", "amount": "10", "total": huge})
        assert codes.error == "Total redemptions must be at most 2147483647"
        codes.create({"code": "BIG", "asset": "USDT", "amount": "10", "total": "5",
                      "per_user": "\uff11"})  # full-width 1
        assert codes.error == ("Redemptions per user must be a whole number written with the "
                               "digits 0-9")
        codes.toggle(huge, "no")
        assert codes.error == "Unknown code."
        submissions = state_of(AdminKycState, admin_token)
        submissions.open(huge)
        assert submissions.selected == {}
    with db.read() as conn:
        assert [p.id for p in staking.list_products(conn)] == [product]
        assert staking.list_products(conn)[0].status == "active"
        positions = staking.positions_of(conn, alice)
        assert [(p.id, p.status) for p in positions] == [(position, "active")]
        assert conn.scalar(select(func.count()).select_from(PromoCode.__table__)) == 0
        assert conn.scalar(select(func.count()).select_from(SupportMessage.__table__)) == 1
        assert support.thread(conn, ticket, viewer_id=alice, staff=False)[0].status == "open"
    assert available(alice, "USDT") == 400 * USDT
