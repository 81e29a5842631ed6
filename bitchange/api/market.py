"""A market as the API names and formats it (BTCUSDT; decimals as strings)."""

from __future__ import annotations

from dataclasses import dataclass

from bitchange.money import plain_amount
from bitchange.trading.markets import AssetInfo, MarketInfo


@dataclass(frozen=True)
class Market:
    """A market as the API names and formats it."""

    info: MarketInfo
    base: AssetInfo
    quote: AssetInfo

    @property
    def name(self) -> str:
        return self.info.symbol.replace("-", "")

    def price(self, minor: int | None) -> str:
        return plain_amount(minor or 0, self.quote.precision)

    def qty(self, minor: int | None) -> str:
        return plain_amount(minor or 0, self.base.precision)

    def quote_qty(self, minor: int | None) -> str:
        return plain_amount(minor or 0, self.quote.precision)

    def minor(self, amount: int | None, asset: str) -> str:
        precision = self.base.precision if asset == self.base.code else self.quote.precision
        return plain_amount(amount or 0, precision)
