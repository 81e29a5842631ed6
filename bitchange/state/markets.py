"""The market list shown in the top bar, the landing page and the markets page."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.money import format_step
from bitchange.state import live
from bitchange.state.events import event
from bitchange.trading.markets import assets, list_markets
from bitchange.trading.views import market_view, ticker_view

NO_DATA = "—"
LIVE_PAGES = (routes.HOME, routes.MARKETS)  # where the tables show prices that move


def market_rows() -> list[dict[str, str]]:
    with db.read() as conn:
        precisions = assets(conn)
        markets = list_markets(conn)
        tickers = {m.symbol: ticker_view(conn, market_view(conn, m.symbol))  # type: ignore[arg-type]
                   for m in markets}
    return [
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


class MarketsState(rx.State):
    rows: list[dict[str, str]] = []

    @event
    def load(self) -> None:
        live.on_page(self)  # in every page's on_load: the tab's watches of other pages end
        # Subscribe before reading: a trade in between moves a market's seq again.
        if self.router.url.path.rstrip("/") in (p.rstrip("/") for p in LIVE_PAGES):
            live.watch(self, MarketsState._live_rows, tickers=market_rows)
        else:
            live.unwatch(self)
        self.rows = market_rows()

    async def _live_rows(self, news: live.News) -> None:
        if news.tickers is not None and news.tickers != self.rows:
            self.rows = [dict(row) for row in news.tickers]  # built once, shared by every tab
