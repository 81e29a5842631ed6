from sqlalchemy import text

from bitchange import db, ledger


def _fund(accounts):
    with db.write() as conn:
        ledger.credit_deposit(conn, accounts["alice"], "BTC", 5_000)
        ledger.credit_deposit(conn, accounts["bob"], "USDT", 7_000)
        ledger.hold(conn, accounts["alice"], "BTC", 1_000)


def test_clean_books_reconcile(accounts):
    _fund(accounts)
    with db.read() as conn:
        report = ledger.reconcile(conn)
    assert report.ok, report.summary()
    assert report.totals == {"BTC": 0, "USDT": 0}
    assert report.entries_checked == 6


def test_tampered_balance_is_reported_precisely(accounts):
    _fund(accounts)
    with db.write() as conn:
        conn.execute(text("UPDATE balances SET available = available + 250 "
                          "WHERE account_id = :a AND asset = 'BTC'"), {"a": accounts["alice"]})
    with db.read() as conn:
        report = ledger.reconcile(conn)
    assert not report.ok
    kinds = {(d.kind, d.asset, d.account_id) for d in report.discrepancies}
    assert kinds == {("balance_mismatch", "BTC", accounts["alice"]),
                     ("asset_not_conserved", "BTC", None)}
    mismatch = next(d for d in report.discrepancies if d.kind == "balance_mismatch")
    assert (mismatch.expected, mismatch.actual) == (4_000, 4_250)
    assert "difference 250" in mismatch.detail


def test_tampered_locked_bucket_is_caught_even_when_the_total_is_unchanged(accounts):
    _fund(accounts)
    with db.write() as conn:
        conn.execute(text("UPDATE balances SET available = available + 100, locked = locked - 100"
                          " WHERE account_id = :a AND asset = 'BTC'"), {"a": accounts["alice"]})
    with db.read() as conn:
        report = ledger.reconcile(conn)
    assert {d.kind for d in report.discrepancies} == {"balance_mismatch"}
    assert len(report.discrepancies) == 2  # available and locked both disagree with the journal


def test_tampered_journal_is_reported(accounts):
    _fund(accounts)
    with db.write() as conn:
        conn.execute(text("DELETE FROM ledger_entries WHERE id = (SELECT MAX(id) FROM "
                          "ledger_entries)"))
    with db.read() as conn:
        report = ledger.reconcile(conn)
    assert "unbalanced_transaction" in {d.kind for d in report.discrepancies}
