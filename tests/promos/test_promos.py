"""Promo codes: rewards from the promotions account through the ledger, every rule, and
concurrent redemptions that never exceed the total or per-user limits (SQLite and
PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from bitchange import db, ledger
from bitchange.config import reload_settings
from bitchange.promos import PROMOTIONS
from bitchange.promos import service as promos
from bitchange.promos.service import PromoError
from bitchange.promos.tables import PromoCode, PromoRedemption
from tests.staking.conftest import (
    USDT,
    assert_books,
    available,
    earn_fees,
    make_user,
    system_balance,
)


def create(admin: int, code: str = "WELCOME", *, amount: int = 10 * USDT, total: int = 100,
           per_user: int = 1, days: int = 30, **extra) -> int:  # type: ignore[no-untyped-def]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with db.write() as conn:
        return promos.create_code(conn, admin, code=code, asset="USDT", amount=amount,
                                  total_limit=total, per_user_limit=per_user,
                                  valid_from=start, valid_until=start + timedelta(days=days),
                                  **extra)


def fund(admin: int, amount: int) -> None:
    earn_fees("USDT", amount)
    with db.write() as conn:
        promos.fund_promotions(conn, admin, "USDT", amount)


def redeem(user_id: int, code: str) -> promos.Redeemed:
    with db.write() as conn:
        return promos.redeem(conn, user_id, code)


@pytest.fixture
def funded(admin, clock, books):  # type: ignore[no-untyped-def]
    clock.set(2026, 1, 10, 12, 0)
    fund(admin, 1_000 * USDT)
    return admin


def test_redeem_credits_the_reward_from_the_promotions_account(funded):
    create(funded)
    alice = make_user("alice@example.com")
    result = redeem(alice, " welcome ")  # codes are case-insensitive
    assert (result.asset, result.amount) == ("USDT", 10 * USDT)
    assert available(alice, "USDT") == 10 * USDT
    assert system_balance(PROMOTIONS, "USDT") == 990 * USDT
    with pytest.raises(PromoError, match="already used"):
        redeem(alice, "WELCOME")  # per-user limit 1 by default
    with db.read() as conn:
        [row] = promos.redemptions(conn)
    assert (row.code, row.email) == ("WELCOME", "alice@example.com")


def test_unknown_inactive_expired_and_exhausted_codes_are_refused(funded, clock):
    alice = make_user("alice@example.com")
    with pytest.raises(PromoError, match="not valid"):
        redeem(alice, "NOPE")
    with pytest.raises(PromoError, match="not valid"):
        redeem(alice, "<script>")
    code = create(funded, "PAUSED")
    with db.write() as conn:
        promos.set_active(conn, funded, code, False)
    with pytest.raises(PromoError, match="not active"):
        redeem(alice, "PAUSED")
    create(funded, "SHORT", days=5)
    clock.set(2026, 1, 6, 0, 0)
    with pytest.raises(PromoError, match="not active"):
        redeem(alice, "SHORT")
    create(funded, "ONCE", total=1)
    redeem(make_user("bob@example.com"), "ONCE")
    with pytest.raises(PromoError, match="fully redeemed"):
        redeem(alice, "ONCE")
    unverified = make_user("eve@example.com", verified=False)
    create(funded, "OPEN")
    with pytest.raises(PromoError, match="Confirm your email"):
        redeem(unverified, "OPEN")
    assert available(alice, "USDT") == 0


def test_an_underfunded_promotion_refuses_and_rolls_back_the_counter(admin, clock, books):
    clock.set(2026, 1, 10, 12, 0)
    fund(admin, 15 * USDT)
    code = create(admin, "BIG")
    redeem(make_user("a@example.com"), "BIG")
    late = make_user("b@example.com")
    with pytest.raises(PromoError, match="run out of funds"):
        redeem(late, "BIG")
    with db.read() as conn:
        assert conn.scalar(select(PromoCode.__table__.c.redeemed_count).where(
            PromoCode.__table__.c.id == code)) == 1
    assert available(late, "USDT") == 0


def test_first_deposit_condition(funded):
    create(funded, "DEPOSIT100", condition="first_deposit_min", condition_asset="USDT",
           condition_amount=100 * USDT)
    big = make_user("big@example.com", {"USDT": 150 * USDT})
    small = make_user("small@example.com", {"USDT": 50 * USDT})
    none = make_user("none@example.com")
    redeem(big, "DEPOSIT100")
    for user in (small, none):
        with pytest.raises(PromoError, match="first deposit"):
            redeem(user, "DEPOSIT100")
    # A later, larger deposit does not change what the first one was.
    with db.write() as conn:
        ledger.credit_deposit(conn, ledger.account_for_user(conn, small), "USDT", 500 * USDT)
    with pytest.raises(PromoError, match="first deposit"):
        redeem(small, "DEPOSIT100")


def test_verification_level_condition(funded):
    from bitchange.kyc.tables import KycSubmission

    create(funded, "VERIFIED", condition="kyc_level_min", condition_amount=1)
    alice = make_user("alice@example.com")
    with pytest.raises(PromoError, match="verification level 1"):
        redeem(alice, "VERIFIED")
    with db.write() as conn:
        conn.execute(KycSubmission.__table__.insert().values(
            user_id=alice, level=1, status="approved", full_name="A", date_of_birth="",
            country="", document_number="", address_line="", city="", postal_code="",
            reason=""))
    redeem(alice, "VERIFIED")


def test_create_code_validation(admin, database):
    with pytest.raises(PromoError, match="3 to 32"):
        create(admin, "x")
    with pytest.raises(PromoError, match="per-user limit"):
        create(admin, "TOOMANY", total=2, per_user=3)
    create(admin, "DUP")
    with pytest.raises(PromoError, match="already exists"):
        create(admin, "dup")


def test_promotions_are_funded_only_from_collected_fees(admin, clock, books):
    for source in ("external", "treasury"):
        with pytest.raises(PromoError, match="only be funded from collected fees"), \
                db.write() as conn:
            promos.fund_promotions(conn, admin, "USDT", 1_000 * USDT, source=source)
    with pytest.raises(PromoError, match="fees account does not hold"), db.write() as conn:
        promos.fund_promotions(conn, admin, "USDT", 5 * USDT)
    earn_fees("USDT", 30 * USDT)
    with db.write() as conn:
        promos.fund_promotions(conn, admin, "USDT", 20 * USDT)
    assert system_balance(PROMOTIONS, "USDT") == 20 * USDT
    assert system_balance(ledger.FEES, "USDT") == 10 * USDT
    with db.read() as conn:
        external = ledger.balances_of(conn, ledger.system_account(conn, ledger.EXTERNAL))
    assert external["USDT"][0] == -30 * USDT  # only the fee payer's real deposit came in


def test_an_admin_cannot_redeem_a_code_they_created(funded):
    create(funded, "MINE")
    with pytest.raises(PromoError, match="code you created"):
        redeem(funded, "MINE")
    assert available(funded, "USDT") == 0
    other_admin = make_user("other-admin@example.com", admin=True)
    redeem(other_admin, "MINE")
    assert available(other_admin, "USDT") == 10 * USDT


def redeem_code(user_id: int, code: str, ip: str = "") -> promos.Redeemed:
    return promos.redeem_code(user_id, code, ip=ip)


def test_guessing_codes_is_throttled_per_user(funded, clock):
    create(funded)
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    for guess in ("GUESS1", "GUESS2", "GUESS3", "GUESS4", "<bad>"):
        with pytest.raises(PromoError, match="not valid"):
            redeem_code(alice, guess, "10.0.0.1")
    # Five wrong codes: the next attempt waits, even with a valid code.
    with pytest.raises(PromoError, match=r"Too many invalid codes\. Try again in 31 seconds"):
        redeem_code(alice, "WELCOME", "10.0.0.2")
    # Others are not affected, and their success does not reset Alice's count.
    redeem_code(bob, "WELCOME", "10.0.0.3")
    clock.moment += timedelta(seconds=29)
    with pytest.raises(PromoError, match="Try again in 2 seconds"):
        redeem_code(alice, "WELCOME", "10.0.0.2")
    assert available(alice, "USDT") == 0
    clock.moment += timedelta(seconds=1)
    assert redeem_code(alice, "WELCOME", "10.0.0.2").amount == 10 * USDT
    # The count is still there: one more wrong code waits twice as long.
    with pytest.raises(PromoError, match="not valid"):
        redeem_code(alice, "GUESS6")
    with pytest.raises(PromoError, match="Try again in 61 seconds"):
        redeem_code(alice, "GUESS7")


def test_guessing_codes_is_throttled_per_ip(funded, clock):
    create(funded)
    guessers = [make_user(f"g{i}@example.com") for i in range(5)]
    for user in guessers:
        for n in range(4):  # below each account's own limit
            with pytest.raises(PromoError, match="not valid"):
                redeem_code(user, f"GUESS{n}", "10.6.6.6")
    newcomer = make_user("new@example.com")
    with pytest.raises(PromoError, match="Try again in 31 seconds"):
        redeem_code(newcomer, "WELCOME", "10.6.6.6")
    assert redeem_code(newcomer, "WELCOME", "10.0.0.1").amount == 10 * USDT  # another IP


# --- concurrency -----------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from bitchange.setup import prepare_database

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        admin_engine = None
    else:
        admin_engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
                                     isolation_level="AUTOCOMMIT")
        name = f"bitchange_test_{uuid.uuid4().hex[:12]}"
        try:
            with admin_engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # pragma: no cover - no local PostgreSQL
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    reload_settings()
    db.dispose()
    prepare_database()
    try:
        yield url
        assert_books()
    finally:
        db.dispose()
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()
        monkeypatch.delenv("DATABASE_URL")
        reload_settings()


def _race(attempts: list[tuple[int, str]]) -> list[str]:
    """Run every (user, code) redemption at once, one thread each; returns the outcomes."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def go(user_id: int, code: str) -> None:
        barrier.wait()
        try:
            redeem(user_id, code)
            outcome = "ok"
        except PromoError as exc:
            outcome = str(exc)
        except Exception as exc:  # anything else is a failure of the service
            outcome = f"error: {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=go, args=a) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == len(attempts)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    return outcomes


def test_concurrent_redemptions_never_exceed_the_total_or_per_user_limit(shared_database,
                                                                         clock):
    clock.set(2026, 1, 10, 12, 0)
    admin = make_user("admin@example.com", admin=True)
    fund(admin, 10_000 * USDT)
    create(admin, "RUSH", total=5, per_user=1)
    users = [make_user(f"r{i}@example.com") for i in range(8)]
    # 8 users, each trying twice at the same moment, for a code with 5 redemptions in all.
    outcomes = _race([(u, "RUSH") for u in users for _ in range(2)])
    assert outcomes.count("ok") == 5
    redemptions = PromoRedemption.__table__
    with db.read() as conn:
        per_user = conn.execute(select(redemptions.c.user_id, func.count())
                                .group_by(redemptions.c.user_id)).all()
        assert conn.scalar(select(PromoCode.__table__.c.redeemed_count)) == 5
    assert len(per_user) == 5 and all(n == 1 for _, n in per_user)
    assert sum(available(u, "USDT") for u in users) == 5 * 10 * USDT
    assert system_balance(PROMOTIONS, "USDT") == 10_000 * USDT - 50 * USDT

    # One user, ten simultaneous tries of a code they may use twice.
    create(admin, "TWICE", total=100, per_user=2)
    solo = make_user("solo@example.com")
    outcomes = _race([(solo, "TWICE")] * 10)
    assert outcomes.count("ok") == 2
    assert available(solo, "USDT") == 20 * USDT
