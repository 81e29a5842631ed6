import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bitchange import db, ledger
from bitchange.db.models import LedgerEntry
from bitchange.ledger import InsufficientFunds, LedgerError, Movement, UnbalancedTransaction
from tests.ledger.conftest import balances, journal_size

BTC = 100_000_000


def test_deposit_credits_user_from_the_outside_world(accounts):
    with db.write() as conn:
        ledger.credit_deposit(conn, accounts["alice"], "BTC", 2 * BTC, ref_id="dep-1")
    assert balances(accounts["alice"]) == {"BTC": (2 * BTC, 0)}
    assert balances(accounts["external"]) == {"BTC": (-2 * BTC, 0)}
    with db.read() as conn:
        entries = conn.execute(select(LedgerEntry.__table__.c.account_id,
                                      LedgerEntry.__table__.c.amount)).all()
        assert ledger.reconcile(conn).ok
    assert sorted(e.amount for e in entries) == [-2 * BTC, 2 * BTC]


def test_hold_release_settle_and_fees(accounts):
    a, b = accounts["alice"], accounts["bob"]
    with db.write() as conn:
        ledger.credit_deposit(conn, a, "USDT", 1_000_000)
        ledger.hold(conn, a, "USDT", 600_000, ref_type="order", ref_id=1)
    assert balances(a)["USDT"] == (400_000, 600_000)
    with db.write() as conn:
        ledger.settle(conn, a, b, "USDT", 500_000, fee=1_000, ref_type="trade", ref_id=7)
        ledger.release(conn, a, "USDT", 100_000, ref_type="order", ref_id=1)
    assert balances(a)["USDT"] == (500_000, 0)
    assert balances(b)["USDT"] == (499_000, 0)
    assert balances(accounts["fees"])["USDT"] == (1_000, 0)
    with db.read() as conn:
        assert ledger.reconcile(conn).ok


def test_withdrawal_pays_out_locked_funds_with_fee(accounts):
    a = accounts["alice"]
    with db.write() as conn:
        ledger.credit_deposit(conn, a, "ETH", 10_000)
        ledger.hold(conn, a, "ETH", 4_000)
        ledger.debit_withdrawal(conn, a, "ETH", 4_000, fee=100, ref_id="w1")
    assert balances(a)["ETH"] == (6_000, 0)
    assert balances(accounts["external"])["ETH"] == (-10_000 + 3_900, 0)
    assert balances(accounts["fees"])["ETH"] == (100, 0)
    with db.read() as conn:
        assert ledger.reconcile(conn).ok


def test_transfer_between_users(accounts):
    with db.write() as conn:
        ledger.credit_deposit(conn, accounts["alice"], "BTC", 1_000)
        ledger.transfer(conn, accounts["alice"], accounts["bob"], "BTC", 400, memo="lunch")
    assert balances(accounts["alice"])["BTC"] == (600, 0)
    assert balances(accounts["bob"])["BTC"] == (400, 0)


@pytest.mark.parametrize("operation", ["hold", "transfer", "settle", "release", "withdraw"])
def test_overdraft_raises_and_writes_nothing(accounts, operation):
    a, b = accounts["alice"], accounts["bob"]
    with db.write() as conn:
        ledger.credit_deposit(conn, a, "BTC", 1_000)
        ledger.hold(conn, a, "BTC", 300)
    before_balances = (balances(a), balances(b), balances(accounts["fees"]))
    before_journal = journal_size()
    calls = {
        "hold": lambda c: ledger.hold(c, a, "BTC", 701),
        "transfer": lambda c: ledger.transfer(c, a, b, "BTC", 701),
        "settle": lambda c: ledger.settle(c, a, b, "BTC", 301, fee=1),
        "release": lambda c: ledger.release(c, a, "BTC", 301),
        "withdraw": lambda c: ledger.debit_withdrawal(c, a, "BTC", 301),
    }
    with pytest.raises(InsufficientFunds), db.write() as conn:
        calls[operation](conn)
    assert (balances(a), balances(b), balances(accounts["fees"])) == before_balances
    assert journal_size() == before_journal


def test_failure_after_a_partial_write_rolls_back_the_whole_transaction(accounts):
    a, b = accounts["alice"], accounts["bob"]
    with db.write() as conn:
        ledger.credit_deposit(conn, a, "BTC", 1_000)
    before = journal_size()
    with pytest.raises(InsufficientFunds), db.write() as conn:
        ledger.transfer(conn, a, b, "BTC", 600)  # succeeds inside the transaction...
        ledger.transfer(conn, a, b, "BTC", 600)  # ...then this fails: both vanish
    assert balances(a)["BTC"] == (1_000, 0)
    assert balances(b).get("BTC", (0, 0)) == (0, 0)
    assert journal_size() == before


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "10"])
def test_amounts_must_be_positive_integers(accounts, amount):
    with pytest.raises(LedgerError), db.write() as conn:
        ledger.credit_deposit(conn, accounts["alice"], "BTC", amount)


def test_fee_cannot_exceed_the_amount(accounts):
    with db.write() as conn:
        ledger.credit_deposit(conn, accounts["alice"], "BTC", 1_000)
        ledger.hold(conn, accounts["alice"], "BTC", 1_000)
    with pytest.raises(LedgerError), db.write() as conn:
        ledger.settle(conn, accounts["alice"], accounts["bob"], "BTC", 100, fee=101)


def test_unbalanced_postings_are_refused(accounts):
    with pytest.raises(UnbalancedTransaction), db.write() as conn:
        ledger.post(conn, "bogus", [Movement(accounts["alice"], "BTC", "available", 5)])
    with pytest.raises(UnbalancedTransaction), db.write() as conn:
        ledger.post(conn, "bogus", [
            Movement(accounts["external"], "BTC", "available", -5),
            Movement(accounts["alice"], "ETH", "available", 5),
        ])


def test_database_itself_refuses_a_negative_user_balance(accounts):
    with db.write() as conn:
        ledger.credit_deposit(conn, accounts["alice"], "BTC", 10)
    with pytest.raises(IntegrityError), db.write() as conn:
        conn.execute(text("UPDATE balances SET available = -1 WHERE account_id = :a"),
                     {"a": accounts["alice"]})
    assert balances(accounts["alice"])["BTC"] == (10, 0)
