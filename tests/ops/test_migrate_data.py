"""`python -m bitchange migrate-data`: a SQLite exchange used through the real services (trades,
deposits, withdrawals, transfers, KYC, staking, tickets) moves to the real PostgreSQL and the
verification passes; a copy with one row changed fails it; every refusal is a clear message
and leaves nothing copied."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from bitchange import db
from bitchange.__main__ import main
from bitchange.config import PROJECT_ROOT
from bitchange.db.schema import metadata
from bitchange.jobs import lease
from bitchange.kyc import service as kyc
from bitchange.ops.migrate_data import table_checksum
from bitchange.staking import service as staking
from bitchange.support import service as support
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from bitchange.wallet import deposits, transfers, withdrawals
from tests.kyc.test_kyc import IDENTITY
from tests.kyc.test_kyc import submit as submit_kyc
from tests.postgres import empty_database
from tests.wallet.conftest import (  # noqa: F401 - the wallet tests' fixtures
    BTC,
    BTC_ADDRESS,
    USDT,
    World,
    clock_,
    emails,
    set_price,
    settings,
    token_in,
    world,
)
from tests.wallet.test_withdrawals import ready_address

TXID = "ab" * 32


@pytest.fixture
def used_exchange(world: World, settings) -> World:  # type: ignore[no-untyped-def]  # noqa: F811
    """An exchange after a day of business, every change through the services."""
    settings(WITHDRAWAL_ADDRESS_HOLD_HOURS="0", WITHDRAWAL_SECURITY_LOCK_HOURS="0",
             DEPOSIT_SECOND_APPROVAL_USDT="100000")
    alice, bob, admin, admin2 = world.alice, world.bob, world.admin, world.admin2
    set_price("BTC-USDT", 60_000 * USDT)
    # Deposits: one credited at once, one large enough for a second admin.
    with db.write() as conn:
        deposits.record(conn, asset="USDT", amount=90_000 * USDT, txid="01" * 32, vout=0,
                        confirmations=20, user_email=bob.email, recorded_by=admin.user_id)
        big = deposits.record(conn, asset="BTC", amount=2 * BTC, txid="02" * 32, vout=1,
                              confirmations=6, user_email=bob.email, recorded_by=admin.user_id)
    with db.write() as conn:
        deposits.approve(conn, admin2.user_id, big.deposit_id)
    # Trading: fills, partial fills, resting orders on both sides, a cancel.
    for price in (61_000, 62_000, 63_000):
        service.place_order(alice.user_id, "BTC-USDT",
                            OrderRequest("SELL", "limit", price * USDT, BTC // 10))
    service.place_order(bob.user_id, "BTC-USDT", OrderRequest("BUY", "limit", 61_500 * USDT,
                                                              BTC // 20))
    for price in (59_000, 58_000):
        service.place_order(bob.user_id, "BTC-USDT",
                            OrderRequest("BUY", "limit", price * USDT, BTC // 50))
    cancelled = service.place_order(bob.user_id, "ETH-USDT",
                                    OrderRequest("BUY", "limit", 3_000 * USDT, 10**7))
    service.cancel_order(bob.user_id, cancelled.order_id)
    # A withdrawal sent, and one waiting for review.
    address = ready_address(world, alice, "BTC", BTC_ADDRESS)
    requested = []
    for _ in range(2):
        requested.append(withdrawals.request(alice.user_id, address, BTC // 100,
                                             world.clock.code(alice.secret), ip="10.1.1.1"))
        with db.write() as conn:
            withdrawals.confirm(conn, token_in(emails(alice.email, "withdrawal_requested")[-1]))
    with db.write() as conn:
        withdrawals.approve(conn, admin.user_id, requested[0])
        withdrawals.mark_sent(conn, admin2.user_id, requested[0], TXID)
    transfers.send(alice.user_id, bob.email, "USDT", 250 * USDT, "rent",
                   world.clock.code(alice.secret))
    # KYC: submitted and approved; staking; a ticket with a reply.
    submission = submit_kyc(bob.user_id, 1, IDENTITY)
    with db.write() as conn:
        kyc.approve(conn, admin.user_id, submission, ip="10.9.9.9")
        product = staking.create_product(conn, admin.user_id, asset="USDT", name="USDT 30 days",
                                         apr_bps=500, lock_days=30, min_amount=10 * USDT,
                                         max_per_user=10_000 * USDT, capacity=100_000 * USDT)
    with db.write() as conn:
        staking.stake(conn, alice.user_id, product, 1_000 * USDT)
        ticket = support.open_ticket(conn, bob.user_id, subject="Where is my deposit?",
                                     category="deposits", body="It shows 2 confirmations.")
        support.staff_reply(conn, admin.user_id, ticket, "It is credited now.")
    return world


@pytest.fixture
def target() -> Iterator[str]:
    with empty_database() as url:
        yield url


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The operator's command, as a process of its own on the configured SQLite database."""
    env = {**os.environ, "DATABASE_URL": db.current_url(), "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-m", "bitchange", "migrate-data", *args],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: conn.scalar(select(func.count()).select_from(t))
                    for t in metadata.sorted_tables}
    finally:
        engine.dispose()


def test_a_used_exchange_moves_to_postgresql_and_verifies(used_exchange, target):
    with db.read() as conn:
        source_counts = {t.name: conn.scalar(select(func.count()).select_from(t))
                         for t in metadata.sorted_tables}
    for table in ("trades", "orders", "deposits", "withdrawals", "transfers", "kyc_submissions",
                  "kyc_documents", "staking_positions", "support_messages", "ledger_entries",
                  "mail_outbox", "admin_audit_log"):
        assert source_counts[table] > 0, f"the scenario left {table} empty"

    done = cli("--to", target, "--batch-rows", "7")  # small batches: many per table
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "locked for writing: the exchange is read-only" in done.stdout
    assert f"{'ledger_entries':24} {source_counts['ledger_entries']:>9}/" in done.stderr
    for name in source_counts:
        assert any(line.split()[:1] == [name] and line.endswith("ok")
                   for line in done.stdout.splitlines()), f"{name} not verified:\n{done.stdout}"
    assert "reconcile on the target: OK" in done.stdout
    assert "book BTC-USDT" in done.stdout and "5 resting orders  equal" in done.stdout
    assert "Verified: the target holds the same exchange" in done.stdout
    assert counts(target) == source_counts

    # The same rows, and new rows get ids after the copied ones (sequences moved on).
    engine = create_engine(target)
    try:
        with engine.connect() as conn, db.read() as source:
            for table in metadata.sorted_tables:
                assert table_checksum(conn, table) == table_checksum(source, table)
            for table, column in (("orders", "id"), ("ledger_entries", "id"), ("users", "id")):
                largest = conn.scalar(text(f"SELECT MAX({column}) FROM {table}"))  # noqa: S608
                following = conn.scalar(text(f"SELECT nextval(pg_get_serial_sequence("
                                             f"'{table}', '{column}'))"))
                assert following == largest + 1
    finally:
        engine.dispose()

    # Trading goes on against the new database with the app's own code.
    env_check = subprocess.run(
        [sys.executable, "-c", "from bitchange.trading import service; "
         "print(service.load_books())"],
        cwd=PROJECT_ROOT, env={**os.environ, "DATABASE_URL": target}, capture_output=True,
        text=True, timeout=120, check=False)
    assert env_check.stdout.strip() == "5", env_check.stderr


def test_a_tampered_copy_fails_the_verification(used_exchange, target):
    assert cli("--to", target).returncode == 0
    engine = create_engine(target)
    try:
        with engine.begin() as conn:  # one row changed behind the exchange's back
            conn.execute(text("UPDATE orders SET remaining = remaining - 1 "
                              "WHERE id = (SELECT MAX(id) FROM orders WHERE status = 'open')"))
    finally:
        engine.dispose()
    done = cli("--to", target, "--verify-only")
    assert done.returncode == 1, done.stdout + done.stderr
    [orders] = [line for line in done.stdout.splitlines() if line.split()[:1] == ["orders"]]
    assert "MISMATCH: target sha256" in orders
    mismatched = [line.split()[0] for line in done.stdout.splitlines() if "MISMATCH" in line]
    assert mismatched == ["orders"]
    assert "book BTC-USDT" in done.stdout and "DIFFERS from the source's" in done.stdout
    assert "VERIFICATION FAILED" in done.stderr and "Traceback" not in done.stderr


def test_a_target_with_data_is_refused_without_force(used_exchange, target):
    assert cli("--to", target).returncode == 0
    before = counts(target)
    service.place_order(used_exchange.bob.user_id, "BTC-USDT",
                        OrderRequest("BUY", "limit", 50_000 * USDT, BTC // 100))
    refused = cli("--to", target)
    assert refused.returncode == 2
    assert "is not empty" in refused.stderr and "--force" in refused.stderr
    assert counts(target) == before  # nothing copied
    forced = cli("--to", target, "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert counts(target)["orders"] == before["orders"] + 1


def test_refused_while_the_app_is_running(database, target, capsys):
    assert lease.try_acquire("node-a:4242", timedelta(minutes=1))
    assert main(["migrate-data", "--to", target]) == 2
    err = capsys.readouterr().err
    assert "The exchange is running: node-a:4242 holds the scheduler lease" in err
    assert "Stop every app node" in err
    engine = create_engine(target)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []  # not even migrated
    finally:
        engine.dispose()

    assert main(["migrate-data", "--to", target, "--verify-only"]) == 2

    lease.release("node-a:4242")  # a clean shutdown
    assert main(["migrate-data", "--to", target, "--verify-only"]) == 2
    assert "is not migrated" in capsys.readouterr().err
    assert main(["migrate-data", "--to", target]) == 0


@pytest.mark.parametrize(("url", "message"), [
    ("not a url", "--to is not a database URL"),
    ("sqlite:////tmp/other.db", "The target must be PostgreSQL, not sqlite"),
    ("postgresql://postgres:hunter2@127.0.0.1:1/nowhere", "Cannot reach the target "
     "postgresql://postgres:***@127.0.0.1:1/nowhere"),
    ("postgresql://postgres@127.0.0.1:5432/no_such_database_here",
     'database "no_such_database_here" does not exist'),
])
def test_bad_targets_are_clear_errors(database, url, message, capsys):
    assert main(["migrate-data", "--to", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Migration refused: ") and message in err
    assert "hunter2" not in err
