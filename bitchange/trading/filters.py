"""A market's order filters (tick size, lot size, minimum total) as messages in the trader's
units: the service refuses orders with them, and the order form shows them as the trader
types. '' means the value passes."""

from __future__ import annotations

from dataclasses import dataclass

from bitchange.money import format_asset, format_step


@dataclass(frozen=True)
class Filters:
    base: str
    quote: str
    base_precision: int
    quote_precision: int
    quote_decimals: int
    tick_size: int
    lot_size: int
    min_notional: int

    def price_problem(self, price: int) -> str:
        if price % self.tick_size:
            tick = format_step(self.tick_size, self.quote_precision)
            return f"Price must be a multiple of {tick} {self.quote}"
        return ""

    def amount_problem(self, quantity: int) -> str:
        if quantity % self.lot_size:
            lot = format_step(self.lot_size, self.base_precision)
            return f"Amount must be a multiple of {lot} {self.base}"
        return ""

    def minimum(self) -> str:
        shown = format_asset(self.min_notional, self.quote_precision, self.quote_decimals)
        return f"{shown} {self.quote}"

    def total_problem(self, notional: int) -> str:
        if notional < self.min_notional:
            return f"Order total must be at least {self.minimum()}"
        return ""

    def unbuyable_total(self, total: int) -> str:
        """A limit order's typed total that buys less than one lot, so there is no amount."""
        lot = format_step(self.lot_size, self.base_precision)
        return self.total_problem(total) or f"The total buys less than one lot ({lot} {self.base})"

    def spend_problem(self, quote_amount: int) -> str:
        """A market buy sized by the amount to spend."""
        if quote_amount < max(self.min_notional, 1):
            return f"Spend at least {self.minimum()}"
        return ""
