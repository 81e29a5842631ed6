"""Internal transfers (2FA, limits, note, emails both sides), the history with its filters and
CSV, and the wallet overview."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bitchange import db, ledger
from bitchange.db.models import User
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from bitchange.wallet import history, overview, transfers, withdrawals
from bitchange.wallet.errors import WalletError
from bitchange.wallet.tables import Transfer
from tests.wallet.conftest import BTC, USDT, emails, set_price
from tests.wallet.test_withdrawals import ready_address


@pytest.fixture
def t(world, settings):  # type: ignore[no-untyped-def]
    settings(TRANSFER_DAILY_LIMIT_USDT="10000", WITHDRAWAL_DAILY_LIMIT_USDT="50000",
             WITHDRAWAL_FEES="BTC=0.0002,USDT=5", WITHDRAWAL_MINIMUMS="BTC=0.001,USDT=20")
    return world


def send(t, amount: int, *, to: str = "bob@example.com", asset: str = "USDT",  # type: ignore[no-untyped-def]
         note: str = "", code: str | None = None) -> int:
    return transfers.send(t.alice.user_id, to, asset, amount, note,
                          code if code is not None else t.clock.code())


def _count() -> int:
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(Transfer.__table__))


def test_transfer_is_instant_emailed_and_in_both_histories(t):
    alice, bob = t.alice.balance("USDT"), t.bob.balance("USDT")
    send(t, 250 * USDT, to="  BOB@example.com ", note="rent for march")
    assert t.alice.balance("USDT") == (alice[0] - 250 * USDT, 0)
    assert t.bob.balance("USDT") == (bob[0] + 250 * USDT, 0)
    sent = emails(t.alice.email, "transfer_sent")[0]
    received = emails(t.bob.email, "transfer_received")[0]
    assert "250.00 USDT" in sent.text_body and "rent for march" in sent.text_body
    assert "alice@example.com" in received.text_body
    with db.read() as conn:
        mine = history.entries(conn, t.alice.user_id, history.Filters(type="transfer"))
        theirs = history.entries(conn, t.bob.user_id, history.Filters(type="transfer"))
    assert [(e.amount, e.detail) for e in mine] == [
        (-250 * USDT, "to bob@example.com — rent for march")]
    assert [(e.amount, e.detail) for e in theirs] == [
        (250 * USDT, "from alice@example.com — rent for march")]


REFUSALS = {
    "self": ({"to": "alice@example.com"}, "yourself"),
    "unknown": ({"to": "nobody@example.com"}, "No BitChange account"),
    "limit": ({"amount": 10_001 * USDT}, "daily transfer limit"),
    "insufficient": ({"amount": 1 * BTC, "asset": "BTC"}, "no market price"),
    "wrong code": ({"code": "111111"}, "not valid"),
    "note": ({"note": "x" * 141}, "140 characters"),
    "zero": ({"amount": 0}, "greater than zero"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_transfers_change_nothing(t, case):
    kwargs, message = REFUSALS[case]
    before = t.alice.balance("USDT"), t.bob.balance("USDT")
    with pytest.raises(WalletError, match=message):
        send(t, **({"amount": 10 * USDT} | kwargs))
    assert (t.alice.balance("USDT"), t.bob.balance("USDT")) == before
    assert _count() == 0


def test_transfer_limits_accumulate_and_frozen_or_locked_senders_are_refused(t):
    send(t, 6_000 * USDT)
    with pytest.raises(WalletError, match=r"6,000\.00 USDT used"):
        send(t, 5_000 * USDT)
    t.clock.advance(hours=24, minutes=1)
    send(t, 5_000 * USDT)
    users = User.__table__
    with db.write() as conn:
        conn.execute(update(users).where(users.c.id == t.alice.user_id).values(
            password_changed_at=t.clock.now() - timedelta(hours=1)))
    with pytest.raises(WalletError, match="recent password change"):
        send(t, 1 * USDT)
    with db.write() as conn:
        conn.execute(update(users).where(users.c.id == t.alice.user_id).values(
            password_changed_at=None, frozen_at=t.clock.now()))
    with pytest.raises(WalletError, match="frozen"):
        send(t, 1 * USDT)
    with db.write() as conn:
        conn.execute(update(users).where(users.c.id == t.alice.user_id).values(frozen_at=None))
        conn.execute(update(users).where(users.c.id == t.bob.user_id).values(
            frozen_at=t.clock.now()))
    with pytest.raises(WalletError, match="cannot receive"):
        send(t, 1 * USDT)


def test_history_filters_csv_and_overview(t, settings):
    w = t
    set_price("BTC-USDT", 50_000 * USDT)
    # A trade of Alice's (taker buy), a withdrawal held, a transfer, on different days.
    maker = w.bob
    with db.write() as conn:
        ledger.credit_deposit(conn, maker.account, "BTC", BTC)
    service.place_order(maker.user_id, "BTC-USDT",
                        OrderRequest("SELL", "limit", 50_000 * USDT, BTC // 10))
    service.place_order(w.alice.user_id, "BTC-USDT",
                        OrderRequest("BUY", "limit", 50_000 * USDT, BTC // 10))
    service.place_order(w.alice.user_id, "BTC-USDT",
                        OrderRequest("BUY", "limit", 40_000 * USDT, BTC // 10))  # rests
    day_one = w.clock.now().date()
    address_id = ready_address(w, w.alice, "BTC", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu")
    withdrawals.request(w.alice.user_id, address_id, BTC // 20, w.clock.code())
    send(t, 10 * USDT, note="=HYPERLINK(\"http://evil\")")
    day_two = w.clock.now().date()
    assert day_two > day_one

    with db.read() as conn:
        everything = history.entries(conn, w.alice.user_id)
        trades = history.entries(conn, w.alice.user_id, history.Filters(type="trade"))
        fees = history.entries(conn, w.alice.user_id, history.Filters(type="fee"))
        btc = history.entries(conn, w.alice.user_id, history.Filters(asset="BTC"))
        first_day = history.entries(conn, w.alice.user_id,
                                    history.Filters(start=day_one, end=day_one))
        later = history.entries(conn, w.alice.user_id, history.Filters(start=day_two))
        bobs = history.entries(conn, w.bob.user_id, history.Filters(type="trade"))
        text = history.to_csv(conn, everything)
        view = overview.overview(conn, w.alice.user_id)
    assert {e.type for e in everything} == {"trade", "fee", "withdrawal", "transfer"}
    assert sorted((e.asset, e.amount) for e in trades) == [("BTC", BTC // 10),
                                                           ("USDT", -5_000 * USDT)]
    assert [(e.asset, e.amount, e.status) for e in fees] == [("BTC", -20_000, "trading fee")]
    assert {e.type for e in btc} == {"trade", "fee", "withdrawal"}
    assert {e.type for e in first_day} == {"trade", "fee"}
    assert {e.type for e in later} == {"withdrawal", "transfer"}
    assert sorted((e.asset, e.amount) for e in bobs) == [("BTC", -BTC // 10),
                                                         ("USDT", 5_000 * USDT)]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["time_utc", "type", "asset", "amount", "status", "detail", "reference"]
    transfer_row = next(r for r in rows if r[1] == "transfer")
    assert transfer_row[3] == "-10.000000"
    assert transfer_row[5][0] not in "=+-@"  # no formula injection through the note
    assert history._safe_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert len(rows) == 1 + len(everything)

    lines = {line.asset: line for line in view.lines}
    btc_line, usdt_line = lines["BTC"], lines["USDT"]
    assert btc_line.pending_withdrawal == BTC // 20 and btc_line.in_orders == 0
    assert usdt_line.in_orders == 4_000 * USDT  # the resting buy
    assert btc_line.total == 2 * BTC + BTC // 10 - 20_000
    assert view.total_usdt == btc_line.value_usdt + usdt_line.value_usdt
    assert view.unpriced == []  # Alice has no ETH


def test_history_dates_must_be_iso():
    assert history.parse_day("") is None
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        history.parse_day("31/01/2030")


def test_a_wash_trade_at_a_low_price_does_not_lower_the_transfer_limit(t):
    set_price("BTC-USDT", 60_000 * USDT)
    set_price("BTC-USDT", 1_000 * USDT)  # a wash trade: 1 BTC would look like 1,000 USDT
    with pytest.raises(WalletError, match=r"this transfer is worth 12,000\.00 USDT"):
        send(t, BTC // 5, asset="BTC")  # over the 10,000 USDT limit, not 200 USDT
    assert _count() == 0
