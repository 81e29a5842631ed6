"""Property: whatever sequence of operations is attempted, no balance goes negative, a refused
operation leaves no trace, the ledger matches a simple model, and reconcile() passes after
every step."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitchange import db, ledger
from bitchange.ledger import InsufficientFunds
from tests.ledger.conftest import journal_size

USERS = ["alice", "bob"]
ASSETS = ["BTC", "USDT"]
amounts = st.integers(min_value=1, max_value=2_000)

operation = st.one_of(
    st.tuples(st.just("deposit"), st.sampled_from(USERS), st.sampled_from(ASSETS), amounts),
    st.tuples(st.just("hold"), st.sampled_from(USERS), st.sampled_from(ASSETS), amounts),
    st.tuples(st.just("release"), st.sampled_from(USERS), st.sampled_from(ASSETS), amounts),
    st.tuples(st.just("transfer"), st.sampled_from(USERS), st.sampled_from(ASSETS), amounts),
    st.tuples(st.just("settle"), st.sampled_from(USERS), st.sampled_from(ASSETS), amounts,
              st.integers(min_value=0, max_value=50)),
    st.tuples(st.just("withdraw"), st.sampled_from(USERS), st.sampled_from(ASSETS), amounts,
              st.integers(min_value=0, max_value=50)),
)


def _snapshot() -> dict[tuple[int, str], tuple[int, int]]:
    from sqlalchemy import select

    from bitchange.db.models import Balance

    table = Balance.__table__
    with db.read() as conn:
        return {(r.account_id, r.asset): (r.available, r.locked)
                for r in conn.execute(select(table))}


def _expected_changes(op, acc) -> list[tuple[int, str, int, int]]:
    """(account, asset, change of available, change of locked) the operation should make."""
    kind, user, asset, amount = op[:4]
    other = acc["bob"] if user == "alice" else acc["alice"]
    me = acc[user]
    if kind == "deposit":
        return [(acc["external"], asset, -amount, 0), (me, asset, amount, 0)]
    if kind == "hold":
        return [(me, asset, -amount, amount)]
    if kind == "release":
        return [(me, asset, amount, -amount)]
    if kind == "transfer":
        return [(me, asset, -amount, 0), (other, asset, amount, 0)]
    fee = min(op[4], amount - 1)
    if kind == "settle":
        return [(me, asset, 0, -amount), (other, asset, amount - fee, 0),
                (acc["fees"], asset, fee, 0)]
    return [(me, asset, 0, -amount), (acc["external"], asset, amount - fee, 0),
            (acc["fees"], asset, fee, 0)]


def _run(op, acc, conn) -> None:
    kind, user, asset, amount = op[:4]
    other = acc["bob"] if user == "alice" else acc["alice"]
    me = acc[user]
    if kind == "deposit":
        ledger.credit_deposit(conn, me, asset, amount)
    elif kind == "hold":
        ledger.hold(conn, me, asset, amount)
    elif kind == "release":
        ledger.release(conn, me, asset, amount)
    elif kind == "transfer":
        ledger.transfer(conn, me, other, asset, amount)
    elif kind == "settle":
        ledger.settle(conn, me, other, asset, amount, fee=min(op[4], amount - 1))
    else:
        ledger.debit_withdrawal(conn, me, asset, amount, fee=min(op[4], amount - 1))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_random_operations_keep_the_books_sound(accounts, operations):
    model: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for key, (available, locked) in _snapshot().items():
        model[key] = [available, locked]

    for op in operations:
        changes = _expected_changes(op, accounts)
        trial = {k: list(v) for k, v in model.items()}
        for account, asset, d_available, d_locked in changes:
            slot = trial.setdefault((account, asset), [0, 0])
            slot[0] += d_available
            slot[1] += d_locked
        should_fail = any(
            (available < 0 or locked < 0)
            for (account, _), (available, locked) in trial.items()
            if account != accounts["external"]
        )
        journal_before = journal_size()
        try:
            with db.write() as conn:
                _run(op, accounts, conn)
        except InsufficientFunds:
            assert should_fail, f"{op} was refused although the model allows it"
            assert journal_size() == journal_before, "a refused operation left journal rows"
        else:
            assert not should_fail, f"{op} succeeded but overdraws an account"
            model = defaultdict(lambda: [0, 0], trial)

        actual = _snapshot()
        expected = {k: tuple(v) for k, v in model.items() if v != [0, 0] or k in actual}
        assert actual == expected
        assert all(a >= 0 and lk >= 0 for (acct, _), (a, lk) in actual.items()
                   if acct != accounts["external"])
        with db.read() as conn:
            report = ledger.reconcile(conn)
        assert report.ok, report.summary()
