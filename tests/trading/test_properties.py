"""Property: random order and cancel streams through the full service keep the books sound —
conservation with fees in the fee account, locked funds equal to open orders' holds, no order
overfilled, the book never crossed — and a restart rebuilds the identical book."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitchange.trading import service
from bitchange.trading.service import OrderRequest, TradingError
from tests.trading.conftest import assert_books_sound, price, qty

SYMBOL = "BTC-USDT"

command = st.one_of(
    st.tuples(st.just("limit"), st.integers(0, 1), st.sampled_from(["BUY", "SELL"]),
              st.integers(59_995, 60_005), st.integers(1, 8),
              st.sampled_from(["GTC", "GTC", "IOC", "FOK"])),
    st.tuples(st.just("market"), st.integers(0, 1), st.sampled_from(["BUY", "SELL"]),
              st.integers(1, 8)),
    st.tuples(st.just("spend"), st.integers(0, 1), st.integers(100, 2_000)),
    st.tuples(st.just("cancel"), st.integers(0, 1), st.integers(0, 50)),
)


def _apply(cmd, traders, placed) -> None:
    trader = traders[cmd[1]]
    if cmd[0] == "limit":
        _, _, side, p, lots, tif = cmd
        request = OrderRequest(side=side, kind="limit", price=price(str(p)),
                               quantity=qty("0.001") * lots, tif=tif)
    elif cmd[0] == "market":
        request = OrderRequest(side=cmd[2], kind="market", quantity=qty("0.001") * cmd[3])
    elif cmd[0] == "spend":
        request = OrderRequest(side="BUY", kind="market", quote_amount=price(str(cmd[2])))
    else:
        if placed:
            service.cancel_order(trader.user_id, placed[cmd[2] % len(placed)])
        return
    placed.append(service.place_order(trader.user_id, SYMBOL, request).order_id)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(commands=st.lists(command, min_size=1, max_size=15))
def test_random_streams_keep_the_books_sound(alice, bob, commands):
    traders = [alice, bob]
    placed: list[int] = []
    for cmd in commands:
        # Refused orders (no liquidity, already filled...) must leave no trace.
        with contextlib.suppress(TradingError):
            _apply(cmd, traders, placed)
        bids, asks = service.depth(SYMBOL)
        assert not bids or not asks or bids[0][0] < asks[0][0], "crossed book"
        assert_books_sound()
    # A restart rebuilds the same book: every order, its owner, remaining and queue place.
    before = service.book_snapshot(SYMBOL)
    service.forget_books()
    assert service.book_snapshot(SYMBOL) == before
