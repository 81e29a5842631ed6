"""Trading: markets, orders, settlement and market data."""
