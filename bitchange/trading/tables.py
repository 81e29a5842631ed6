"""Trading tables, written only by `bitchange.trading`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from bitchange.clock import now


def _big(nullable: bool = False, default: int | None = 0):  # type: ignore[no-untyped-def]
    return Field(default=default, sa_column=Column(BigInteger, nullable=nullable, default=default))


class MarketSequence(SQLModel, table=True):
    """One row per market: the row every writer of that market locks, and a counter that
    tells each process whether its in-memory book is still the database's book."""

    __tablename__ = "market_sequences"
    symbol: str = Field(foreign_key="markets.symbol", primary_key=True, max_length=21)
    seq: int = _big()
    # The seq of the last change of the market's rules or status: a process whose book is
    # older reloads the market, instead of catching up on the orders that changed.
    rules_seq: int = _big()
    # The price of the market's last trade: what conditional orders' triggers compare with.
    last_price: int | None = _big(nullable=True, default=None)


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    id: int | None = Field(default=None, primary_key=True)
    symbol: str = Field(foreign_key="markets.symbol", max_length=21)
    user_id: int = Field(foreign_key="users.id")
    side: str = Field(max_length=4)  # BUY | SELL
    kind: str = Field(max_length=6)  # limit | market
    tif: str = Field(default="GTC", max_length=3)
    post_only: bool = False
    price: int | None = _big(nullable=True, default=None)
    quantity: int | None = _big(nullable=True, default=None)  # base; None for buy-by-quote
    quote_amount: int | None = _big(nullable=True, default=None)
    filled_quantity: int = _big()
    filled_quote: int = _big()
    fee_total: int = _big()  # in what this order receives: base if BUY, quote if SELL
    remaining: int = _big()  # open base quantity while resting, else 0
    held_asset: str = Field(max_length=10)
    held_amount: int = _big()  # funds still locked for this order
    status: str = Field(max_length=16)
    # The market's seq after this order's last change in the book: a process whose book is at
    # seq S catches up by reading the orders with book_seq > S.
    book_seq: int = _big()
    # The trader's own id for the order (Binance's newClientOrderId): unique among the user's
    # open orders of the market, checked by the market's writer.
    client_order_id: str | None = Field(default=None, max_length=36)
    # Conditional orders (status 'pending' until the trigger): STOP_LOSS | TAKE_PROFIT; what
    # runs when triggered is `kind` (limit at `price`, or market).
    stop_type: str | None = Field(default=None, max_length=11)
    stop_price: int | None = _big(nullable=True, default=None)
    trailing_delta: int | None = _big(nullable=True, default=None)  # bps
    # A tracking trailing order's highest (SELL) or lowest (BUY) trade price since it started.
    trail_extreme: int | None = _big(nullable=True, default=None)
    # The two legs of an OCO share it (the id of the list's first leg).
    order_list_id: int | None = _big(nullable=True, default=None)
    list_client_order_id: str | None = Field(default=None, max_length=36)  # the list's own
    triggered_at: datetime | None = None
    # Why an order that was not placed by the trader's own request ended without filling
    # (a triggered stop-market finding an empty book: MARKET_NO_LIQUIDITY; OCO, ...).
    expire_reason: str | None = Field(default=None, max_length=24)
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
    __table_args__ = (
        CheckConstraint("side IN ('BUY', 'SELL')", name="ck_order_side"),
        CheckConstraint(
            "status IN ('pending', 'open', 'partially_filled', 'filled', 'cancelled', "
            "'expired')",
            name="ck_order_status",
        ),
        CheckConstraint("held_amount >= 0 AND remaining >= 0 AND filled_quantity >= 0",
                        name="ck_order_amounts"),
        Index("ix_orders_open", "symbol", "status"),
        Index("ix_orders_book_seq", "symbol", "book_seq"),
        Index("ix_orders_user", "user_id", "id"),
        Index("ix_orders_client_id", "user_id", "client_order_id"),
        Index("ix_orders_list", "order_list_id"),
        Index("ix_orders_list_client_id", "user_id", "list_client_order_id"),
    )


class Trade(SQLModel, table=True):
    __tablename__ = "trades"
    id: int | None = Field(default=None, primary_key=True)
    symbol: str = Field(foreign_key="markets.symbol", max_length=21)
    maker_order_id: int = Field(foreign_key="orders.id")
    taker_order_id: int = Field(foreign_key="orders.id")
    maker_user_id: int = Field(foreign_key="users.id")
    taker_user_id: int = Field(foreign_key="users.id")
    taker_side: str = Field(max_length=4)
    price: int = _big()
    quantity: int = _big()
    notional: int = _big()
    maker_fee: int = _big()
    taker_fee: int = _big()
    created_at: datetime = Field(default_factory=now)
    __table_args__ = (
        Index("ix_trades_symbol_id", "symbol", "id"),
        Index("ix_trades_maker_user", "maker_user_id", "id"),
        Index("ix_trades_taker_user", "taker_user_id", "id"),
    )


class Candle(SQLModel, table=True):
    """OHLCV per market and interval, kept incrementally as trades happen."""

    __tablename__ = "candles"
    symbol: str = Field(foreign_key="markets.symbol", primary_key=True, max_length=21)
    interval: str = Field(primary_key=True, max_length=3)
    open_time: int = Field(sa_column=Column(BigInteger, primary_key=True))  # unix seconds
    open: int = _big()
    high: int = _big()
    low: int = _big()
    close: int = _big()
    volume: int = _big()  # base minor units
    quote_volume: int = _big()
    trade_count: int = _big()
    taker_buy_volume: int = _big()  # of the trades whose taker bought
    taker_buy_quote_volume: int = _big()
