"""Assets and markets: reference data, seeded idempotently, edited later by admins."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select

from bitchange.db.models import Asset, Market
from bitchange.db.prepared import Prepared
from bitchange.money import format_asset
from bitchange.trading.tables import MarketSequence

_assets = Asset.__table__
_markets = Market.__table__
_sequences = MarketSequence.__table__

# code, name, precision (minor-unit decimals), decimals shown to traders
REFERENCE_ASSETS = [
    ("BTC", "Bitcoin", 8, 8),
    ("ETH", "Ether", 8, 6),
    ("USDT", "Tether USD", 6, 2),
]

# tick (quote minor per whole base), lot (base minor), min notional (quote minor), fees in bps.
# tick * lot is a multiple of 10**base_precision, so every fill's quote amount is exact.
REFERENCE_MARKETS = [
    dict(symbol="BTC-USDT", base="BTC", quote="USDT", tick_size=10_000, lot_size=10_000,
         min_notional=10_000_000, maker_fee_bps=10, taker_fee_bps=20, sort_order=1),
    dict(symbol="ETH-USDT", base="ETH", quote="USDT", tick_size=10_000, lot_size=10_000,
         min_notional=10_000_000, maker_fee_bps=10, taker_fee_bps=20, sort_order=2),
    dict(symbol="ETH-BTC", base="ETH", quote="BTC", tick_size=1_000, lot_size=100_000,
         min_notional=10_000, maker_fee_bps=10, taker_fee_bps=20, sort_order=3),
]


@dataclass(frozen=True)
class AssetInfo:
    code: str
    name: str
    precision: int
    display_decimals: int

    def format(self, minor: int) -> str:
        """An amount of this asset by the app's one display rule (`money.format_asset`)."""
        return format_asset(minor, self.precision, self.display_decimals)


# Values, limits and thresholds are in USDT minor units; shown like any USDT amount.
USDT_INFO = next(AssetInfo(*a) for a in REFERENCE_ASSETS if a[0] == "USDT")


def format_usdt(minor: int) -> str:
    return USDT_INFO.format(minor)


@dataclass(frozen=True)
class MarketInfo:
    symbol: str
    base: str
    quote: str
    tick_size: int
    lot_size: int
    min_notional: int
    maker_fee_bps: int
    taker_fee_bps: int
    status: str

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class MarketConfigError(ValueError):
    pass


def check_market_filters(tick_size: int, lot_size: int, base_precision: int) -> None:
    if tick_size <= 0 or lot_size <= 0:
        raise MarketConfigError("Tick size and lot size must be positive")
    if (tick_size * lot_size) % 10**base_precision:
        raise MarketConfigError(
            "tick size x lot size must be a whole number of quote minor units, "
            "so that no fill ever needs rounding"
        )


def seed_reference(conn: Connection) -> None:
    """Insert the reference assets and markets that are missing; never overwrite edits."""
    have_assets = set(conn.scalars(select(_assets.c.code)))
    for code, name, precision, decimals in REFERENCE_ASSETS:
        if code not in have_assets:
            conn.execute(insert(_assets).values(
                code=code, name=name, precision=precision, display_decimals=decimals))
    precisions = assets(conn)
    have_markets = set(conn.scalars(select(_markets.c.symbol)))
    for market in REFERENCE_MARKETS:
        if market["symbol"] not in have_markets:
            check_market_filters(market["tick_size"], market["lot_size"],
                                 precisions[market["base"]].precision)
            conn.execute(insert(_markets).values(status="active", **market))
    have_sequences = set(conn.scalars(select(_sequences.c.symbol)))
    for symbol in conn.scalars(select(_markets.c.symbol)):
        if symbol not in have_sequences:
            conn.execute(insert(_sequences).values(symbol=symbol, seq=0))


def assets(conn: Connection) -> dict[str, AssetInfo]:
    rows = conn.execute(select(_assets.c.code, _assets.c.name, _assets.c.precision,
                               _assets.c.display_decimals).order_by(_assets.c.code))
    return {r.code: AssetInfo(*r) for r in rows}


_MARKET_COLUMNS = [_markets.c[name] for name in MarketInfo.__dataclass_fields__]


def list_markets(conn: Connection) -> list[MarketInfo]:
    rows = conn.execute(
        select(*_MARKET_COLUMNS).order_by(_markets.c.sort_order, _markets.c.symbol))
    return [MarketInfo(*r) for r in rows]


_base, _quote = _assets.alias("base_asset"), _assets.alias("quote_asset")
_ASSET_COLUMNS = ("code", "name", "precision", "display_decimals")
_WITH_ASSETS = Prepared(
    select(*_MARKET_COLUMNS, *(_base.c[n] for n in _ASSET_COLUMNS),
           *(_quote.c[n] for n in _ASSET_COLUMNS))
    .join(_base, _base.c.code == _markets.c.base).join(_quote, _quote.c.code == _markets.c.quote)
    .where(_markets.c.symbol == bindparam("symbol")))


def market_with_assets(conn: Connection,
                       symbol: str) -> tuple[MarketInfo, AssetInfo, AssetInfo] | None:
    """A market and its base and quote assets, in one lean query (the API's hot path)."""
    row = _WITH_ASSETS.first(conn, {"symbol": symbol})
    if row is None:
        return None
    width, size = len(_MARKET_COLUMNS), len(_ASSET_COLUMNS)
    return (MarketInfo(*row[:width]), AssetInfo(*row[width:width + size]),
            AssetInfo(*row[width + size:]))


def get_market(conn: Connection, symbol: str) -> MarketInfo | None:
    row = conn.execute(select(*_MARKET_COLUMNS).where(_markets.c.symbol == symbol)).first()
    return MarketInfo(*row) if row else None
