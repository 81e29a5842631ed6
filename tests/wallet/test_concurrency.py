"""Several OS processes request withdrawals against one balance at the same moment, on SQLite and
on PostgreSQL: at most what the balance allows is held, never more, and the books balance."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from bitchange import clock, db, ledger
from bitchange.accounts import totp
from bitchange.config import reload_settings
from bitchange.trading import service
from bitchange.wallet import address_book
from bitchange.wallet.tables import Withdrawal
from tests.wallet.conftest import BTC, BTC_ADDRESS, USDT, emails, make_person, set_price, token_in

PROCESSES = 8
AMOUNT = 3 * BTC // 10  # 0.3 BTC each; the balance of 1 BTC allows three


def _request(database_url: str, user_id: int, address_id: int, code: str, barrier,  # type: ignore[no-untyped-def]
             results) -> None:
    os.environ["DATABASE_URL"] = database_url
    reload_settings()
    db.dispose()
    from bitchange.wallet import withdrawals
    from bitchange.wallet.errors import WalletError

    barrier.wait(timeout=60)
    try:
        withdrawals.request(user_id, address_id, AMOUNT, code)
        results.put("held")
    except WalletError as exc:
        results.put(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request, tmp_path, monkeypatch, _fast_password_hashing):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WITHDRAWAL_DAILY_LIMIT_USDT", "100000000")
    monkeypatch.setenv("KYC_WITHDRAWAL_LIMITS_USDT", "0=100000000,1=100000000,2=100000000")
    monkeypatch.setenv("BITCHANGE_ENV", "test")
    if request.param == "sqlite":
        yield from _prepared(f"sqlite:///{tmp_path / 'shared.db'}", monkeypatch)
        return
    admin = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT")
    name = f"bitchange_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield from _prepared(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", monkeypatch)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepared(url, monkeypatch):  # type: ignore[no-untyped-def]
    from bitchange.setup import prepare_database

    monkeypatch.setenv("DATABASE_URL", url)
    reload_settings()
    db.dispose()
    prepare_database()
    service.forget_books()
    yield url
    db.dispose()
    service.forget_books()
    reload_settings()


def test_concurrent_requests_never_hold_more_than_the_balance(shared_database):
    # Set up two days ago (real clock in the children): 2FA lock and address hold are over.
    past = clock.now() - timedelta(days=2)
    with clock.freeze(lambda: past):
        alice = make_person("alice@example.com", funds={"BTC": BTC})
        with db.write() as conn:
            codes = totp.new_recovery_codes(conn, alice.user_id)  # one per process
            address_id = address_book.add(conn, alice.user_id, "BTC", BTC_ADDRESS)
        with db.write() as conn:
            address_book.confirm(conn, token_in(emails(alice.email, "address_added")[-1]))
    set_price("BTC-USDT", 60_000 * USDT)
    db.dispose()  # no pooled connections cross into the children

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    processes = [context.Process(target=_request, args=(
        shared_database, alice.user_id, address_id, codes[i], barrier, results))
        for i in range(PROCESSES)]
    for p in processes:
        p.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0

    held = [o for o in outcomes if o == "held"]
    refused = [o for o in outcomes if o != "held"]
    assert len(held) == 3, outcomes
    assert all("Insufficient available BTC" in o for o in refused), refused
    assert alice.balance("BTC") == (BTC - 3 * AMOUNT, 3 * AMOUNT)
    table = Withdrawal.__table__
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(table)) == 3
        assert conn.scalar(select(func.sum(table.c.amount))) == 3 * AMOUNT
        report = ledger.reconcile(conn)
    assert report.ok, report.summary()
