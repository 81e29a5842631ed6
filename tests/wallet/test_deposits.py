"""Deposit addresses (derived, stored, unique) and crediting (idempotent, four-eyes above the
threshold, emailed, in the history, through the ledger from the outside world)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bitchange import db, ledger
from bitchange.accounts.audit import search
from bitchange.wallet import deposits, history
from bitchange.wallet.errors import InvalidTransition, WalletError
from bitchange.wallet.tables import Deposit, DepositAddress
from tests.wallet.conftest import BTC, USDT, emails, make_person, set_price
from tests.wallet.test_chains import BIP84_FIRST, BIP84_SECOND, BIP84_ZPUB, ETH_FIRST

TXID = "ab" * 32
ETH_ACCOUNT0 = ("xpub6DCoCpSuQZB2jawqnGMEPS63ePKWkwWPH4TU45Q7LPXWuNd8TMtVxRrgjtEshuqpK3mdhaWHPFsBn"
                "gh5GFZaM6si3yZdUsT8ddYM3PwnATt")


@pytest.fixture
def keys(world, settings):  # type: ignore[no-untyped-def]
    settings(DEPOSIT_XPUB_BTC=BIP84_ZPUB, DEPOSIT_XPUB_ETH=ETH_ACCOUNT0,
             DEPOSIT_SECOND_APPROVAL_USDT="10000")
    return world


def _address(user_id: int, asset: str) -> deposits.AddressInfo:
    with db.write() as conn:
        return deposits.deposit_address(conn, user_id, asset)


def test_addresses_are_derived_in_order_stored_and_unique(keys):
    w = keys
    first = _address(w.alice.user_id, "BTC")
    second = _address(w.bob.user_id, "BTC")
    assert (first.address, second.address) == (BIP84_FIRST, BIP84_SECOND)
    assert _address(w.alice.user_id, "BTC").address == BIP84_FIRST  # stable
    assert _address(w.alice.user_id, "ETH").address == ETH_FIRST
    table = DepositAddress.__table__
    with db.read() as conn:
        rows = conn.execute(select(table.c.user_id, table.c.asset, table.c.derivation_index)
                            .order_by(table.c.id)).all()
    assert [tuple(r) for r in rows] == [(w.alice.user_id, "BTC", 0), (w.bob.user_id, "BTC", 1),
                                        (w.alice.user_id, "ETH", 0)]


def test_without_a_key_the_asset_is_unavailable_with_a_reason(keys):
    info = _address(keys.alice.user_id, "USDT")
    assert not info.available and "not configured" in info.reason
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(DepositAddress.__table__)) == 0


def _record(admin_id: int | None, **kw) -> deposits.Recorded:  # type: ignore[no-untyped-def]
    values = {"asset": "BTC", "amount": BTC // 10, "txid": TXID, "vout": 0,
              "confirmations": 3} | kw
    with db.write() as conn:
        return deposits.record(conn, recorded_by=admin_id, ip="10.0.0.1", **values)


def test_small_deposit_to_an_address_is_credited_once_and_emailed(keys):
    w = keys
    set_price("BTC-USDT", 60_000 * USDT)  # 0.1 BTC is 6,000 USDT: below the threshold
    address = _address(w.alice.user_id, "BTC").address
    before = w.alice.balance("BTC")
    result = _record(w.admin.user_id, address=address)
    assert (result.status, result.created) == ("credited", True)
    assert w.alice.balance("BTC") == (before[0] + BTC // 10, before[1])
    [mail] = emails(w.alice.email, "deposit_credited")
    assert "0.10000000 BTC" in mail.text_body and TXID in mail.text_body

    # Recording the same output again changes nothing (idempotent), even with another amount.
    again = _record(w.admin2.user_id, address=address, amount=BTC)
    assert (again.deposit_id, again.created) == (result.deposit_id, False)
    assert w.alice.balance("BTC") == (before[0] + BTC // 10, before[1])
    # The txid in another case is the same output.
    assert not _record(w.admin.user_id, address=address, txid=TXID.upper()).created
    # Another output of the same transaction is a different deposit.
    assert _record(w.admin.user_id, address=address, vout=1).created
    assert len(emails(w.alice.email, "deposit_credited")) == 2

    with db.read() as conn:
        rows = history.entries(conn, w.alice.user_id, history.Filters(type="deposit"))
        external = ledger.balances_of(conn, ledger.system_account(conn, ledger.EXTERNAL))
    assert [r.amount for r in rows] == [BTC // 10, BTC // 10]
    assert external["BTC"][0] < 0  # funds came from the outside world
    assert [e.action for e in _audit()][:1] == ["deposit_recorded"]


def _audit():  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return search(conn, target="deposit")


def test_the_unique_constraint_refuses_a_second_row_for_one_output(keys):
    w = keys
    _record(w.admin.user_id, user_email=w.alice.email)
    table = Deposit.__table__
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.write() as conn:
        conn.execute(table.insert().values(
            user_id=w.bob.user_id, asset="BTC", amount=5, txid=TXID, vout=0, address="",
            confirmations=6, status="pending_approval", source="x", reject_reason=""))


def test_large_deposit_needs_a_second_different_admin(keys):
    w = keys
    set_price("BTC-USDT", 60_000 * USDT)
    before = w.alice.balance("BTC")
    result = _record(w.admin.user_id, user_email=w.alice.email, amount=BTC)  # 60,000 USDT
    assert result.status == "pending_approval"
    assert w.alice.balance("BTC") == before
    with pytest.raises(WalletError, match="second, different admin"), db.write() as conn:
        deposits.approve(conn, w.admin.user_id, result.deposit_id)
    assert w.alice.balance("BTC") == before
    with db.write() as conn:
        deposits.approve(conn, w.admin2.user_id, result.deposit_id)
    assert w.alice.balance("BTC") == (before[0] + BTC, before[1])
    with pytest.raises(InvalidTransition), db.write() as conn:
        deposits.approve(conn, w.admin2.user_id, result.deposit_id)
    assert w.alice.balance("BTC") == (before[0] + BTC, before[1])
    assert {e.action for e in _audit()} == {"deposit_recorded", "deposit_approved"}


def test_unpriced_deposit_is_treated_as_large(keys):
    w = keys
    result = _record(w.admin.user_id, user_email=w.alice.email, amount=BTC // 100)
    assert result.status == "pending_approval"  # BTC has no trade price yet
    with db.write() as conn:
        deposits.reject(conn, w.admin2.user_id, result.deposit_id, "typo in the amount")
    with pytest.raises(InvalidTransition), db.write() as conn:
        deposits.approve(conn, w.admin2.user_id, result.deposit_id)
    assert w.alice.balance("BTC") == (2 * BTC, 0)


@pytest.mark.parametrize(("changes", "message"), [
    ({"txid": "xyz"}, "64 hexadecimal"),
    ({"vout": -1}, "output index"),
    ({"amount": 0}, "greater than zero"),
    ({"confirmations": 1}, "at least 2 confirmations"),
    ({"address": BIP84_SECOND}, "not one of our"),
    ({"address": "", "user_email": "nobody@example.com"}, "No user"),
    ({"address": ""}, "address or the user's email"),
    ({"asset": "DOGE"}, "Unknown asset"),
])
def test_bad_deposit_input_is_refused_and_nothing_changes(keys, changes, message):
    w = keys
    address = _address(w.alice.user_id, "BTC").address
    values = {"address": address} | changes
    with pytest.raises(WalletError, match=message):
        _record(w.admin.user_id, **values)
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(Deposit.__table__)) == 0
    assert w.alice.balance("BTC") == (2 * BTC, 0)


def test_an_admin_cannot_credit_or_approve_their_own_deposit(keys):
    w = keys
    with pytest.raises(WalletError, match="own account"):
        _record(w.admin.user_id, user_email=w.admin.email)
    result = _record(None, user_email=w.admin2.email, amount=5 * BTC, source="watcher:test")
    with pytest.raises(WalletError, match="own account"), db.write() as conn:
        deposits.approve(conn, w.admin2.user_id, result.deposit_id)


@dataclass
class FakeWatcher:
    """A stand-in chain watcher through the DepositSource seam."""

    name: str
    seen: list[deposits.ObservedDeposit]

    def observed(self):  # type: ignore[no-untyped-def]
        return list(self.seen)


def test_a_chain_watcher_credits_through_the_same_path_idempotently(keys):
    w = keys
    set_price("BTC-USDT", 60_000 * USDT)
    address = _address(w.bob.user_id, "BTC").address
    watcher: deposits.DepositSource = FakeWatcher("node1", [
        deposits.ObservedDeposit("BTC", address, BTC // 100, "cd" * 32, 0, 6),  # 600 USDT
        deposits.ObservedDeposit("BTC", address, BTC, "cd" * 32, 1, 6),  # 60,000: review
    ])
    for _ in range(3):  # a watcher reports the same outputs again and again
        with db.write() as conn:
            results = deposits.run_source(conn, watcher)
    assert [r.status for r in results] == ["credited", "pending_approval"]
    assert w.bob.balance("BTC") == (BTC // 100, 0)
    with db.write() as conn:  # one admin approves what the watcher recorded
        deposits.approve(conn, w.admin.user_id, results[1].deposit_id)
    assert w.bob.balance("BTC") == (BTC // 100 + BTC, 0)


def test_a_new_user_without_an_account_row_can_still_be_credited(keys):
    w = keys
    carol = make_person("carol@example.com")
    _record(w.admin.user_id, user_email=carol.email, asset="USDT", amount=50 * USDT,
            txid="ef" * 32, confirmations=12)
    assert carol.balance("USDT") == (50 * USDT, 0)


def test_a_wash_trade_at_a_low_price_does_not_skip_the_second_approval(keys):
    w = keys
    set_price("BTC-USDT", 60_000 * USDT)
    set_price("BTC-USDT", 1_000 * USDT)  # a wash trade: 1 BTC would look like 1,000 USDT
    before = w.alice.balance("BTC")
    result = _record(w.admin.user_id, user_email=w.alice.email, amount=BTC)
    assert result.status == "pending_approval"  # 60,000 USDT >= 10,000: a second admin
    assert w.alice.balance("BTC") == before
    with db.write() as conn:
        deposits.reject(conn, w.admin2.user_id, result.deposit_id, "test")
