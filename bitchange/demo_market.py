"""Demo liquidity for the README's run command: two house accounts quote every market and trade
a little with each other, through the real order service, so a newcomer sees a live book, a
tape and a chart. Development only; the browser tests turn it off (DEMO_LIQUIDITY=0)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from bitchange import db, ledger
from bitchange.accounts.users import create_user, get_user_by_email
from bitchange.demo import DEMO_PASSWORD
from bitchange.trading import service
from bitchange.trading.markets import assets
from bitchange.trading.service import OrderRequest
from bitchange.trading.tables import Order

MAKER = "market-maker@demo.bitchange.local"
TAKER = "house-taker@demo.bitchange.local"
HOUSE_FUNDS = {"BTC": 100, "ETH": 2_000, "USDT": 10_000_000}  # whole units each

# symbol -> (mid price, distance between levels, sizes of the levels from the mid outwards)
QUOTES = {
    "BTC-USDT": ("65000", "7.5", ["0.05", "0.12", "0.2", "0.35", "0.5", "0.8", "1.1", "1.6"]),
    "ETH-USDT": ("3200", "0.85", ["0.4", "1.2", "2", "3.5", "5", "8", "11", "15"]),
    "ETH-BTC": ("0.04920", "0.00002", ["0.5", "1.1", "2", "3", "4.5", "6", "9", "12"]),
}


def _house_account(email: str) -> int:
    with db.write() as conn:
        user = get_user_by_email(conn, email)
        if user is not None:
            return user.id
        user_id = create_user(conn, email, DEMO_PASSWORD, verified=True)
        account = ledger.account_for_user(conn, user_id)
        precisions = assets(conn)
        for asset, units in HOUSE_FUNDS.items():
            ledger.credit_deposit(conn, account, asset, units * 10 ** precisions[asset].precision,
                                  ref_type="demo", ref_id=email, memo="demo liquidity")
        return user_id


def seed_demo_market() -> int:
    """Quote and trade every market once; returns the number of orders placed (0 if done)."""
    maker, taker = _house_account(MAKER), _house_account(TAKER)
    with db.read() as conn:
        if conn.scalar(select(func.count()).select_from(Order.__table__)
                       .where(Order.__table__.c.user_id == maker)):
            return 0
        precisions = assets(conn)
    placed = 0
    for symbol, (mid, step, sizes) in QUOTES.items():
        base, quote = symbol.split("-")
        base_scale = 10 ** precisions[base].precision
        quote_scale = 10 ** precisions[quote].precision
        for level, size in enumerate(sizes, start=1):
            for side, sign in (("SELL", 1), ("BUY", -1)):
                price = Decimal(mid) + sign * level * Decimal(step)
                service.place_order(maker, symbol, OrderRequest(
                    side=side, kind="limit", price=int(price * quote_scale),
                    quantity=int(Decimal(size) * base_scale)))
                placed += 1
        # A few trades so the tape, the ticker and the chart have something to show.
        for side, size in (("BUY", sizes[0]), ("SELL", sizes[1]), ("BUY", sizes[1])):
            service.place_order(taker, symbol, OrderRequest(
                side=side, kind="market", quantity=int(Decimal(size) * base_scale)))
            placed += 1
    return placed
