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


def _balance_updates(monkeypatch) -> list[str]:
    """The balance UPDATEs the ledger runs from now on (on any dialect)."""
    from bitchange.db.prepared import Prepared

    seen: list[str] = []
    rowcount = Prepared.rowcount

    def recorded(self, conn, params):  # type: ignore[no-untyped-def]
        sql = self._for(conn)[0]
        if sql.startswith("UPDATE balances"):
            seen.append(sql)
        return rowcount(self, conn, params)

    monkeypatch.setattr(Prepared, "rowcount", recorded)
    return seen


def test_a_step_moves_each_balance_in_one_statement(accounts, monkeypatch):
    a = accounts["alice"]
    with db.write() as conn:
        ledger.credit_deposit(conn, a, "BTC", 1_000)
    updates = _balance_updates(monkeypatch)
    with db.write() as conn:
        ledger.hold(conn, a, "BTC", 300)  # available -300 and locked +300 of one balance
    assert len(updates) == 1
    assert balances(a)["BTC"] == (700, 300)
    with db.write() as conn:
        ledger.release(conn, a, "BTC", 100)
    assert len(updates) == 2
    assert balances(a)["BTC"] == (800, 200)


@pytest.mark.parametrize(("step", "bucket"), [("hold", "available"), ("release", "locked")])
def test_an_overdraft_of_either_bucket_is_named_and_changes_nothing(accounts, step, bucket):
    a = accounts["alice"]
    with db.write() as conn:
        ledger.credit_deposit(conn, a, "BTC", 1_000)
        ledger.hold(conn, a, "BTC", 300)
    before = journal_size()
    with pytest.raises(InsufficientFunds) as refused, db.write() as conn:
        if step == "hold":
            ledger.hold(conn, a, "BTC", 701)
        else:
            ledger.release(conn, a, "BTC", 301)
    assert (refused.value.bucket, refused.value.asset, refused.value.account_id) == (
        bucket, "BTC", a)
    assert balances(a)["BTC"] == (700, 300) and journal_size() == before


def test_a_first_credit_to_both_buckets_creates_the_balance(accounts):
    a, b = accounts["alice"], accounts["bob"]
    with db.write() as conn:
        ledger.credit_deposit(conn, a, "ETH", 1_000)
        ledger.hold(conn, a, "ETH", 400)
        # Bob has no ETH row yet: one step credits both of his buckets.
        ledger.post(conn, "test", [Movement(a, "ETH", "locked", -400),
                                   Movement(a, "ETH", "available", -100),
                                   Movement(b, "ETH", "available", 300),
                                   Movement(b, "ETH", "locked", 200)])
    assert balances(b)["ETH"] == (300, 200) and balances(a)["ETH"] == (500, 0)
    with db.read() as conn:
        assert ledger.reconcile(conn).ok
