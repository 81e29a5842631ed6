from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bitchange import db, ledger
from bitchange.trading import market_data, service
from bitchange.trading.candles import INTERVALS
from bitchange.trading.service import OrderRequest, TradingError
from bitchange.trading.tables import Order
from bitchange.trading.tables import Trade as TradeRow
from tests.trading.conftest import (
    USDT,
    assert_books_sound,
    make_trader,
    price,
    qty,
    stale_copy,
)

SYMBOL = "BTC-USDT"


def limit(side, p, q, **kw):
    return OrderRequest(side=side, kind="limit", price=price(p), quantity=qty(q), **kw)


def order_row(order_id):
    with db.read() as conn:
        return conn.execute(select(Order.__table__).where(Order.__table__.c.id == order_id)).one()


def count(table):
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def test_resting_sell_then_crossing_buy_settles_at_the_makers_price(alice, bob):
    sell = service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.5"))
    assert sell.status == "open"
    assert alice.balance("BTC") == (qty("9.5"), qty("0.5"))

    # Bob bids higher than the ask: he pays the maker's price, the difference stays his.
    buy = service.place_order(bob.user_id, SYMBOL, limit("BUY", "61000", "0.5"))
    assert (buy.status, buy.filled, buy.quote, buy.trades) == ("filled", qty("0.5"),
                                                               price("30000"), 1)
    notional = price("30000")
    taker_fee = -(-qty("0.5") * 20 // 10_000)  # buyer pays 0.2% in BTC, rounded up
    maker_fee = -(-notional * 10 // 10_000)  # seller (maker) pays 0.1% in USDT
    assert bob.balance("BTC") == (qty("10.5") - taker_fee, 0)
    assert bob.balance("USDT") == (1_000_000 * USDT - notional, 0)
    assert alice.balance("BTC") == (qty("9.5"), 0)
    assert alice.balance("USDT") == (1_000_000 * USDT + notional - maker_fee, 0)
    assert order_row(sell.order_id).status == "filled"
    assert order_row(sell.order_id).fee_total == maker_fee
    with db.read() as conn:  # both fees, and nothing else, reached the fee account
        fees = ledger.balances_of(conn, ledger.system_account(conn, ledger.FEES))
    assert fees == {"BTC": (taker_fee, 0), "USDT": (maker_fee, 0)}
    assert_books_sound()


def test_partial_fill_rests_then_cancel_releases_the_rest(alice, bob):
    service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.2"))
    buy = service.place_order(bob.user_id, SYMBOL, limit("BUY", "60000", "0.5"))
    assert (buy.status, buy.filled, buy.remaining) == ("partially_filled", qty("0.2"), qty("0.3"))
    assert bob.balance("USDT")[1] == price("18000")  # 0.3 BTC still bid at 60000
    service.cancel_order(bob.user_id, buy.order_id)
    assert bob.balance("USDT") == (1_000_000 * USDT - price("12000"), 0)
    assert order_row(buy.order_id).status == "cancelled"
    with pytest.raises(TradingError, match="already cancelled"):
        service.cancel_order(bob.user_id, buy.order_id)
    assert_books_sound()


def test_market_orders_by_quantity_and_by_amount_to_spend(alice, bob):
    service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.1"))
    service.place_order(alice.user_id, SYMBOL, limit("SELL", "61000", "0.1"))
    by_qty = service.place_order(bob.user_id, SYMBOL,
                                 OrderRequest(side="BUY", kind="market", quantity=qty("0.15")))
    assert by_qty.filled == qty("0.15")
    assert by_qty.quote == price("6000") + price("3050")
    by_quote = service.place_order(bob.user_id, SYMBOL, OrderRequest(
        side="BUY", kind="market", quote_amount=price("1000")))
    # 1000 USDT at 61000 buys 0.0163 BTC in whole lots of 0.0001 (994.30 USDT); the rest returns.
    assert (by_quote.filled, by_quote.quote) == (qty("0.0163"), price("994.3"))
    assert bob.balance("USDT")[1] == 0
    sell = service.place_order(alice.user_id, SYMBOL,
                               OrderRequest(side="SELL", kind="market", quantity=qty("1")))
    assert sell.status == "expired" and sell.filled == 0  # no bids: nothing to sell into
    assert alice.balance("BTC")[1] == qty("0.0337")  # only the resting ask's remainder is held
    assert_books_sound()


def test_ioc_fok_and_post_only(alice, bob):
    service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.1"))
    fok = service.place_order(bob.user_id, SYMBOL, limit("BUY", "60000", "0.2", tif="FOK"))
    assert (fok.status, fok.filled, fok.expired_because) == ("expired", 0, "FOK")
    ioc = service.place_order(bob.user_id, SYMBOL, limit("BUY", "60000", "0.2", tif="IOC"))
    assert (ioc.status, ioc.filled, ioc.expired_because) == ("expired", qty("0.1"), "IOC")
    assert bob.balance("USDT")[1] == 0
    service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.1"))
    book = service._live(SYMBOL).book
    for _ in range(2):
        with pytest.raises(TradingError, match="Post-only"):
            service.place_order(bob.user_id, SYMBOL,
                                limit("BUY", "60000", "0.1", post_only=True))
    # Refused before the engine or the database were touched: the book stays as it was, and
    # the next orders go through (SQLite reuses a rolled-back id; the engine must not have
    # taken it).
    assert service._live(SYMBOL).book is book is not None
    rests = service.place_order(bob.user_id, SYMBOL, limit("BUY", "59000", "0.1",
                                                           post_only=True))
    assert rests.status == "open"
    assert service.place_order(bob.user_id, SYMBOL, limit("BUY", "58000", "0.1")).status == "open"
    assert_books_sound()


def test_a_market_order_below_the_minimum_total_is_refused(alice, bob):
    service.place_order(bob.user_id, SYMBOL, limit("BUY", "60000", "0.1"))
    service.place_order(bob.user_id, SYMBOL, limit("SELL", "60100", "0.1"))
    before = (alice.balance("USDT"), alice.balance("BTC"), count(Order.__table__))
    for side in ("BUY", "SELL"):  # 0.0001 BTC is ~6 USDT at the best prices
        with pytest.raises(TradingError, match=r"Order total must be at least 10\.00 USDT"):
            service.place_order(alice.user_id, SYMBOL, OrderRequest(
                side=side, kind="market", quantity=qty("0.0001")))
    assert (alice.balance("USDT"), alice.balance("BTC"), count(Order.__table__)) == before
    sold = service.place_order(alice.user_id, SYMBOL, OrderRequest(
        side="SELL", kind="market", quantity=qty("0.001")))
    assert (sold.status, sold.filled) == ("filled", qty("0.001"))
    assert_books_sound()


def test_self_trade_is_prevented_and_holds_released(alice):
    service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.1"))
    mine = service.place_order(alice.user_id, SYMBOL, limit("BUY", "60000", "0.1"))
    assert (mine.status, mine.filled, mine.expired_because) == ("expired", 0, "STP")
    assert alice.balance("USDT")[1] == 0
    assert count(TradeRow.__table__) == 0
    assert_books_sound()


@pytest.mark.parametrize(("request_", "message"), [
    (OrderRequest(side="BUY", kind="limit", price=price("60000.001"), quantity=qty("1")),
     "multiple of 0.01 USDT"),
    (OrderRequest(side="BUY", kind="limit", price=price("60000"), quantity=qty("0.00001")),
     "multiple of 0.0001 BTC"),
    (OrderRequest(side="BUY", kind="limit", price=price("1"), quantity=qty("0.0001")),
     "at least 10.00 USDT"),
    (OrderRequest(side="BUY", kind="limit", price=price("60000"), quantity=qty("100")),
     "Insufficient USDT"),
    (OrderRequest(side="BUY", kind="market", quantity=qty("1")), "No sell orders"),
    (OrderRequest(side="SELL", kind="market", quote_amount=price("100")), "No buy orders"),
    (OrderRequest(side="SELL", kind="market", quantity=qty("1"), quote_amount=price("100")),
     "not both"),
    (OrderRequest(side="HOLD", kind="limit", price=1, quantity=1), "buy or sell"),
    # Each within what the form accepts, their product beyond a 64-bit column.
    (OrderRequest(side="BUY", kind="limit", price=price("4000000000000"),
                  quantity=qty("4000000000")), "too large"),
    (OrderRequest(side="BUY", kind="market", quote_amount=2**63), "too large"),
])
def test_bad_orders_are_refused_with_a_reason_and_change_nothing(alice, request_, message):
    before = (alice.balance("USDT"), alice.balance("BTC"), count(Order.__table__))
    with pytest.raises(TradingError, match=message):
        service.place_order(alice.user_id, SYMBOL, request_)
    assert (alice.balance("USDT"), alice.balance("BTC"), count(Order.__table__)) == before
    assert_books_sound()


def test_unverified_and_frozen_users_cannot_trade(market):
    unverified = make_trader("new@example.com", {"USDT": 100_000 * USDT}, verified=False)
    with pytest.raises(TradingError, match="Verify your email"):
        service.place_order(unverified.user_id, SYMBOL, limit("BUY", "60000", "0.1"))


def test_halted_market_refuses_orders_but_allows_cancels(alice):
    resting = service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.1"))
    service.set_market_status(SYMBOL, "halted")
    with pytest.raises(TradingError, match="halted"):
        service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.1"))
    service.cancel_order(alice.user_id, resting.order_id)
    service.set_market_status(SYMBOL, "active")
    service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.1"))
    assert_books_sound()


def test_a_cancel_of_an_impossible_order_id_is_not_found(alice):
    for order_id in (0, -1, 10**30):
        with pytest.raises(TradingError, match="Order not found"):
            service.cancel_order(alice.user_id, order_id)


def test_another_users_order_cannot_be_cancelled(alice, bob):
    resting = service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.1"))
    with pytest.raises(TradingError, match="Order not found"):
        service.cancel_order(bob.user_id, resting.order_id)
    assert order_row(resting.order_id).status == "open"


def test_cancel_all_and_admin_cancel_market(alice, bob):
    for p in ("60000", "60100", "60200"):
        service.place_order(alice.user_id, SYMBOL, limit("SELL", p, "0.1"))
    service.place_order(alice.user_id, "ETH-USDT", OrderRequest(
        side="BUY", kind="limit", price=price("3000"), quantity=10**6))
    service.place_order(bob.user_id, SYMBOL, limit("BUY", "50000", "0.1"))
    assert service.cancel_all(alice.user_id, SYMBOL) == 3
    assert service.cancel_all(alice.user_id) == 1
    assert service.cancel_all(None, SYMBOL) == 1  # admin: everyone's orders in the market
    assert alice.balance("BTC")[1] == 0 and bob.balance("USDT")[1] == 0
    assert_books_sound()


def test_books_rebuild_from_the_database_after_a_restart(alice, bob):
    for p, q in (("60000", "0.1"), ("60000", "0.2"), ("60100", "0.3")):
        service.place_order(alice.user_id, SYMBOL, limit("SELL", p, q))
    service.place_order(bob.user_id, SYMBOL, limit("BUY", "59000", "0.4"))
    before = service.depth(SYMBOL)
    first = service.place_order(bob.user_id, SYMBOL, limit("BUY", "60000", "0.05"))
    book = service.book_snapshot(SYMBOL)
    service.forget_books()  # a restart: nothing in memory
    assert service.load_books() == 4  # what a process does first: 3 asks, 1 bid
    assert service.book_snapshot(SYMBOL) == book
    assert service.depth(SYMBOL) == ([(price("59000"), qty("0.4"))],
                                     [(price("60000"), qty("0.25")), (price("60100"), qty("0.3"))])
    assert before[1][0] == (price("60000"), qty("0.3"))
    # Time priority survived: the remaining 0.05 of the first ask fills before the second.
    second = service.place_order(bob.user_id, SYMBOL, limit("BUY", "60000", "0.05"))
    assert first.filled == second.filled == qty("0.05")
    with db.read() as conn:
        makers = [t.maker_order_id for t in market_data.trades_of(conn, bob.user_id)]
    assert makers[0] == makers[1]
    assert_books_sound()


def test_market_rules_edit_applies_to_new_orders(alice):
    service.update_market_rules(SYMBOL, tick_size=price("1"), lot_size=qty("0.001"),
                                min_notional=price("5"), maker_fee_bps=0, taker_fee_bps=5)
    with pytest.raises(TradingError, match="multiple of 1 USDT"):
        service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000.5", "0.001"))
    with pytest.raises(TradingError, match="whole number"):
        service.update_market_rules(SYMBOL, tick_size=1, lot_size=1, min_notional=0,
                                    maker_fee_bps=0, taker_fee_bps=0)


def test_ticker_and_candles_follow_trades(alice, bob):
    for p in ("60000", "62000", "61000"):
        service.place_order(alice.user_id, SYMBOL, limit("SELL", p, "0.1"))
        service.place_order(bob.user_id, SYMBOL, limit("BUY", p, "0.1"))
    with db.read() as conn:
        tick = market_data.ticker(conn, SYMBOL)
        one_minute = market_data.candles(conn, SYMBOL, "1m")
        tape = market_data.recent_trades(conn, SYMBOL)
    assert (tick.last, tick.high, tick.low, tick.open) == (
        price("61000"), price("62000"), price("60000"), price("60000"))
    assert tick.volume == qty("0.3")
    assert tick.change_bps == 166  # +1.666...% truncated
    assert [t.price for t in tape] == [price("61000"), price("62000"), price("60000")]
    last = one_minute[-1]
    assert last.volume == sum(c.volume for c in one_minute if c.open_time == last.open_time)
    assert sum(c.volume for c in one_minute) == qty("0.3")
    for interval, seconds in INTERVALS.items():  # every interval, kept by the same upserts
        with db.read() as conn:
            bars = market_data.candles(conn, SYMBOL, interval)
        assert sum(c.volume for c in bars) == qty("0.3"), interval
        assert all(c.open_time % seconds == 0 for c in bars), interval
        assert max(c.high for c in bars) == price("62000")
        assert min(c.low for c in bars) == price("60000")


def test_a_bid_resting_across_a_rules_change_releases_its_rounding_when_filled(alice, bob):
    # 60000.01 is on the old 0.01 tick; with the new 0.00001 lot, a fill's quote can have a
    # fraction of a minor unit, which is rounded down: the bid keeps a unit of its hold.
    bid = service.place_order(bob.user_id, SYMBOL, limit("BUY", "60000.01", "0.0003"))
    service.update_market_rules(SYMBOL, tick_size=price("0.1"), lot_size=qty("0.00001"),
                                min_notional=price("5"), maker_fee_bps=10, taker_fee_bps=20)
    for _ in range(2):
        service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.00015"))
    row = order_row(bid.order_id)
    assert (row.status, row.filled_quote, row.held_amount) == ("filled", 2 * 9_000_001, 0)
    assert bob.balance("USDT") == (1_000_000 * USDT - 2 * 9_000_001, 0)
    assert_books_sound()


def test_a_rounded_bid_filled_last_by_an_exact_fill_releases_its_rounding(alice, bob):
    bid = service.place_order(bob.user_id, SYMBOL, limit("BUY", "60000.01", "0.0003"))
    service.update_market_rules(SYMBOL, tick_size=price("0.1"), lot_size=qty("0.00001"),
                                min_notional=price("1"), maker_fee_bps=10, taker_fee_bps=20)
    for q in ("0.00005", "0.00005", "0.0002"):  # two rounded fills, then an exact one
        service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", q))
    row = order_row(bid.order_id)
    assert (row.status, row.filled_quote, row.held_amount) == (
        "filled", 2 * 3_000_000 + 12_000_002, 0)
    assert bob.balance("USDT")[1] == 0
    assert_books_sound()


def test_a_stale_book_catches_up_on_the_orders_other_writers_changed(alice, bob):
    carol = make_trader("carol@example.com", {"BTC": qty("1"), "USDT": 100_000 * USDT})
    for p, q in (("60000", "0.3"), ("60000", "0.2"), ("60100", "0.1"), ("60200", "0.1")):
        service.place_order(alice.user_id, SYMBOL, limit("SELL", p, q))
    cancel_me = service.place_order(bob.user_id, SYMBOL, limit("BUY", "59000", "0.1"))
    stale, stale_seq = stale_copy(SYMBOL)

    # Meanwhile, in "another process": a partial fill, a full fill and a sweep that rests as
    # the new best bid where asks were, a cancel, a self-trade expiry, new resting orders.
    service.place_order(bob.user_id, SYMBOL, limit("BUY", "60000", "0.4"))
    service.place_order(carol.user_id, SYMBOL, limit("BUY", "60100", "0.3"))
    service.cancel_order(bob.user_id, cancel_me.order_id)
    service.place_order(alice.user_id, SYMBOL, limit("BUY", "60200", "0.1"))  # expires (STP)
    service.place_order(bob.user_id, SYMBOL, limit("BUY", "58000", "0.2"))
    expected = service.book_snapshot(SYMBOL)

    live = service._live(SYMBOL)
    live.book, live.seq = stale, stale_seq  # this process slept through all of it
    assert service.book_snapshot(SYMBOL) == expected
    assert live.book is stale, "caught up in place, not reloaded"
    live.seq = stale_seq  # a change applied twice (a re-read) changes nothing
    assert service.book_snapshot(SYMBOL) == expected and live.book is stale

    # After a rules change the market is reloaded whole, with its new rules.
    stale, stale_seq = stale_copy(SYMBOL)
    service.update_market_rules(SYMBOL, tick_size=price("0.1"), lot_size=qty("0.0001"),
                                min_notional=price("5"), maker_fee_bps=10, taker_fee_bps=20)
    live.book, live.seq = stale, stale_seq
    assert service.book_snapshot(SYMBOL) == expected
    assert live.book is not stale and live.book.rules.tick_size == price("0.1")
    assert_books_sound()


def _as_committed(row) -> dict:  # type: ignore[no-untyped-def]
    """A row's columns, datetimes as UTC-aware (SQLite reads them back so)."""
    return {k: v.replace(tzinfo=v.tzinfo or UTC) if isinstance(v, datetime) else v
            for k, v in dict(row).items()}


def test_a_placed_order_carries_its_committed_row_and_its_own_fills(alice, bob):
    service.place_order(alice.user_id, SYMBOL, limit("SELL", "60000", "0.1"))
    service.place_order(alice.user_id, SYMBOL, limit("SELL", "60100", "0.1"))
    buy = service.place_order(bob.user_id, SYMBOL, limit("BUY", "60100", "0.3",
                                                         client_order_id="bot-1"))
    assert _as_committed(buy.row) == _as_committed(order_row(buy.order_id)._mapping)
    assert buy.row["status"] == "partially_filled" and buy.row["client_order_id"] == "bot-1"
    with db.read() as conn:
        trades = conn.execute(select(TradeRow.__table__).where(
            TradeRow.__table__.c.taker_order_id == buy.order_id)
            .order_by(TradeRow.__table__.c.id)).all()
    assert [(f.trade_id, f.price, f.quantity, f.fee) for f in buy.fills] == [
        (t.id, t.price, t.quantity, t.taker_fee) for t in trades]
    assert [f.price for f in buy.fills] == [price("60000"), price("60100")]
    # A maker's fills are not the taker's: a sell into the rest of the bid has its own.
    sell = service.place_order(alice.user_id, SYMBOL, limit("SELL", "60100", "0.1"))
    assert len(sell.fills) == 1 and sell.fills[0].trade_id > trades[-1].id
    assert _as_committed(sell.row) == _as_committed(order_row(sell.order_id)._mapping)
    assert_books_sound()
