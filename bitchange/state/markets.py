"""The market list shown in the top bar, the landing page and the markets page."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.money import format_step
from bitchange.state.events import event
from bitchange.trading.markets import assets, list_markets
from bitchange.trading.views import market_view, ticker_view

NO_DATA = "—"


class MarketsState(rx.State):
    rows: list[dict[str, str]] = []

    @event
    def load(self) -> None:
        with db.read() as conn:
            precisions = assets(conn)
            markets = list_markets(conn)
            tickers = {m.symbol: ticker_view(conn, market_view(conn, m.symbol))  # type: ignore[arg-type]
                       for m in markets}
        self.rows = [
            {
                "symbol": m.symbol,
                "base": m.base,
                "quote": m.quote,
                "name": f"{precisions[m.base].name} / {precisions[m.quote].name}",
                "last": tickers[m.symbol]["last"],
                "change": tickers[m.symbol]["change"],
                "volume": tickers[m.symbol]["volume"],
                "tick": format_step(m.tick_size, precisions[m.quote].precision),
                "lot": format_step(m.lot_size, precisions[m.base].precision),
                "status": m.status,
                "href": routes.trade(m.symbol),
            }
            for m in markets
        ]
