"""Price alerts: set, list, delete, and the job that fires them.

A user sets "tell me when BTC-USDT trades at or above / at or below X" (at most
PRICE_ALERTS_PER_USER pending). The job (`fire_due`, run by the scheduler every few seconds)
reads the trades committed since its cursor, in id order, and fires each pending alert on the
first later trade whose price reaches it: in one transaction it marks the alert (an
`UPDATE ... WHERE fired_at IS NULL`, the once-guard), queues its email in the outbox and moves
the cursor. A failed run changes nothing and the next one reads the same trades again, so an
alert fires exactly once. The settlement path is untouched: one cheap query per run when
nothing traded. Open screens show a toast through the live watcher (`newest_fired`,
`owners_fired_since`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from bitchange import routes
from bitchange.accounts.notices import notify
from bitchange.accounts.users import AccountError
from bitchange.alerts.tables import AlertCursor, PriceAlert
from bitchange.clock import now
from bitchange.config import get_settings
from bitchange.mail.templates import Link, public_link
from bitchange.money import AmountError, format_amount, parse_amount
from bitchange.trading.markets import get_market
from bitchange.trading.tables import Trade
from bitchange.trading.views import MarketView, market_view

_alerts = PriceAlert.__table__
_cursors = AlertCursor.__table__
_trades = Trade.__table__
CURSOR = "price_alerts"
BATCH = 5000  # trades read per transaction
DIRECTIONS = {"above": "at or above", "below": "at or below"}


@dataclass(frozen=True)
class AlertRow:
    id: int
    symbol: str
    direction: str
    price: str  # formatted in the quote asset
    created_at: datetime
    fired_at: datetime | None
    fired_price: str


def _price_text(mv: MarketView, price: int) -> str:
    return f"{format_amount(price, mv.quote_precision, mv.price_decimals)} {mv.quote}"


def create(conn: Connection, user_id: int, symbol: str, direction: str, price_text: str) -> int:
    """Set an alert; AccountError for bad input or one too many (nothing is written)."""
    if direction not in DIRECTIONS:
        raise AccountError("Choose \u201cat or above\u201d or \u201cat or below\u201d.")
    if get_market(conn, symbol) is None:
        raise AccountError("Unknown market.")
    mv = market_view(conn, symbol)
    assert mv is not None
    try:
        price = parse_amount(price_text, mv.quote_precision, what="Price")
    except AmountError as exc:
        raise AccountError(str(exc)) from None
    limit = get_settings().price_alerts_per_user
    pending = conn.scalar(select(func.count()).select_from(_alerts).where(
        _alerts.c.user_id == user_id, _alerts.c.fired_at.is_(None))) or 0
    if pending >= limit:
        raise AccountError(f"You can have {limit} pending alerts. Delete one first.")
    newest = conn.scalar(select(func.max(_trades.c.id))) or 0
    return conn.execute(insert(_alerts).values(
        user_id=user_id, symbol=symbol, direction=direction, price=price,
        after_trade_id=newest, created_at=now()).returning(_alerts.c.id)).scalar_one()


def list_alerts(conn: Connection, user_id: int) -> list[AlertRow]:
    """The user's alerts, pending first, newest first."""
    rows = conn.execute(select(_alerts).where(_alerts.c.user_id == user_id).order_by(
        _alerts.c.fired_at.is_not(None), _alerts.c.id.desc()))
    views: dict[str, MarketView | None] = {}
    found = []
    for r in rows:
        if r.symbol not in views:
            views[r.symbol] = market_view(conn, r.symbol)
        mv = views[r.symbol]
        assert mv is not None
        found.append(AlertRow(r.id, r.symbol, r.direction, _price_text(mv, r.price),
                              r.created_at, r.fired_at,
                              _price_text(mv, r.fired_price) if r.fired_price else ""))
    return found


def remove(conn: Connection, user_id: int, alert_id: int) -> None:
    gone = conn.execute(delete(_alerts).where(_alerts.c.id == alert_id,
                                              _alerts.c.user_id == user_id))
    if gone.rowcount != 1:
        raise AccountError("No such alert.")


def _cursor(conn: Connection) -> int:
    """The newest trade id already checked (locked for this run). The first run starts at the
    oldest pending alert's baseline: no trade an alert could fire on is skipped."""
    value = conn.scalar(select(_cursors.c.last_trade_id).where(
        _cursors.c.name == CURSOR).with_for_update())
    if value is None:
        oldest = conn.scalar(select(func.min(_alerts.c.after_trade_id)).where(
            _alerts.c.fired_at.is_(None)))
        value = oldest if oldest is not None else (conn.scalar(
            select(func.max(_trades.c.id))) or 0)
        conn.execute(insert(_cursors).values(name=CURSOR, last_trade_id=value))
    return value


def _reaches(direction: str, target: int, price: int) -> bool:
    return price >= target if direction == "above" else price <= target


def _tell(conn: Connection, alert, trade_price: int) -> None:  # type: ignore[no-untyped-def]
    mv = market_view(conn, alert.symbol)
    assert mv is not None
    notify(conn, alert.user_id, "price_alert",
           f"{alert.symbol} traded {DIRECTIONS[alert.direction]} {_price_text(mv, alert.price)}", [
               f"Your price alert fired: {alert.symbol} traded at {_price_text(mv, trade_price)}"
               f", {DIRECTIONS[alert.direction]} your {_price_text(mv, alert.price)}.",
               "The alert fires once; set a new one on the alerts page if you want another.",
           ], link=Link("Open the market", public_link(routes.trade(alert.symbol))))


def fire_batch(conn: Connection) -> tuple[int, bool]:
    """Check the next batch of trades against the pending alerts, in the caller's
    transaction: (alerts fired, whether more trades wait)."""
    since = _cursor(conn)
    trades = conn.execute(select(_trades.c.id, _trades.c.symbol, _trades.c.price).where(
        _trades.c.id > since).order_by(_trades.c.id).limit(BATCH)).all()
    if not trades:
        return 0, False
    pending = conn.execute(select(_alerts).where(
        _alerts.c.fired_at.is_(None),
        _alerts.c.symbol.in_({t.symbol for t in trades}))).all()
    fired = 0
    for alert in pending:
        hit = next((t for t in trades if t.symbol == alert.symbol
                    and t.id > alert.after_trade_id
                    and _reaches(alert.direction, alert.price, t.price)), None)
        if hit is None:
            continue
        once = conn.execute(update(_alerts).where(
            _alerts.c.id == alert.id, _alerts.c.fired_at.is_(None)).values(
            fired_at=now(), fired_price=hit.price, fired_trade_id=hit.id))
        if once.rowcount == 1:
            _tell(conn, alert, hit.price)
            fired += 1
    conn.execute(update(_cursors).where(_cursors.c.name == CURSOR).values(
        last_trade_id=trades[-1].id))
    return fired, len(trades) == BATCH


def newest_fired(conn: Connection) -> int:
    """The mark the live watcher reads: the trade id of the latest firing (it only grows,
    since the job reads trades in order)."""
    return conn.scalar(select(func.max(_alerts.c.fired_trade_id))) or 0


def owners_fired_since(conn: Connection, after_trade_id: int, users: set[int]) -> set[int]:
    return set(conn.scalars(select(_alerts.c.user_id).distinct().where(
        _alerts.c.fired_trade_id > after_trade_id, _alerts.c.user_id.in_(users))))


def fired_since(conn: Connection, user_id: int, after_trade_id: int) -> list[str]:
    """What to tell an open screen: the user's alerts fired after a mark, as sentences."""
    rows = conn.execute(select(_alerts).where(
        _alerts.c.user_id == user_id, _alerts.c.fired_trade_id > after_trade_id).order_by(
        _alerts.c.fired_trade_id))
    told = []
    for r in rows:
        mv = market_view(conn, r.symbol)
        assert mv is not None
        told.append(f"{r.symbol} traded at {_price_text(mv, r.fired_price)}, "
                    f"{DIRECTIONS[r.direction]} your alert at {_price_text(mv, r.price)}.")
    return told
