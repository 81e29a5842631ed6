from bitchange import db, ledger
from bitchange.demo_market import QUOTES, seed_demo_market
from bitchange.trading import market_data, service


def test_demo_liquidity_quotes_and_trades_every_market_once(database):
    service.forget_books()
    placed = seed_demo_market()
    assert placed == sum(2 * len(sizes) + 3 for _, _, sizes in QUOTES.values())
    assert seed_demo_market() == 0  # idempotent: a second run adds nothing
    with db.read() as conn:
        assert ledger.reconcile(conn).ok
        for symbol in QUOTES:
            assert market_data.ticker(conn, symbol).last is not None
            assert len(market_data.recent_trades(conn, symbol)) >= 3
    for symbol in QUOTES:
        bids, asks = service.depth(symbol)
        assert bids and asks and bids[0][0] < asks[0][0]
    service.forget_books()
