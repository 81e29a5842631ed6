"""A user's transaction history: deposits, withdrawals, transfers, trades and fees, filtered by
type, asset and date, newest first, and as CSV. Built only for the user it belongs to."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, or_, select

from bitchange.clock import now
from bitchange.db.models import Market, User
from bitchange.money import format_amount
from bitchange.trading.markets import assets
from bitchange.trading.tables import Trade
from bitchange.wallet.tables import Deposit, Transfer, Withdrawal
from bitchange.wallet.withdrawals import LABELS

_deposits = Deposit.__table__
_withdrawals = Withdrawal.__table__
_transfers = Transfer.__table__
_trades = Trade.__table__
_markets = Market.__table__
_users = User.__table__

TYPES = ["deposit", "withdrawal", "transfer", "trade", "fee"]
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Entry:
    time: datetime
    type: str
    asset: str
    amount: int  # signed: + into the account, - out of it
    status: str
    detail: str
    ref: str


@dataclass(frozen=True)
class Filters:
    type: str = ""
    asset: str = ""
    start: date | None = None
    end: date | None = None  # inclusive


def parse_day(text: str) -> date | None:
    """'2026-01-31' -> date; '' -> None; anything else -> ValueError."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError("Dates are written YYYY-MM-DD.") from None


def _window(query, column, filters: Filters):  # type: ignore[no-untyped-def]
    tz = now().tzinfo
    if filters.start:
        query = query.where(column >= datetime.combine(filters.start, time(), tz))
    if filters.end:
        query = query.where(column < datetime.combine(filters.end + timedelta(days=1), time(),
                                                      tz))
    return query


def _wants(filters: Filters, kind: str) -> bool:
    return not filters.type or filters.type == kind


def entries(conn: Connection, user_id: int, filters: Filters = Filters(),
            limit: int = MAX_ROWS) -> list[Entry]:
    found: list[Entry] = []
    asset = filters.asset

    if _wants(filters, "deposit"):
        q = _window(select(_deposits).where(_deposits.c.user_id == user_id),
                    _deposits.c.created_at, filters)
        if asset:
            q = q.where(_deposits.c.asset == asset)
        for r in conn.execute(q.order_by(_deposits.c.id.desc()).limit(limit)):
            status = {"pending_approval": "pending", "credited": "credited",
                      "rejected": "rejected"}[r.status]
            found.append(Entry(r.created_at, "deposit", r.asset, r.amount, status,
                               f"txid {r.txid}:{r.vout}", f"D{r.id}"))

    if _wants(filters, "withdrawal") or _wants(filters, "fee"):
        q = _window(select(_withdrawals).where(_withdrawals.c.user_id == user_id),
                    _withdrawals.c.created_at, filters)
        if asset:
            q = q.where(_withdrawals.c.asset == asset)
        for r in conn.execute(q.order_by(_withdrawals.c.id.desc()).limit(limit)):
            if _wants(filters, "withdrawal"):
                detail = f"to {r.address}" + (f", txid {r.txid}" if r.txid else "") + (
                    f", {r.reason}" if r.reason else "")
                found.append(Entry(r.created_at, "withdrawal", r.asset, -(r.amount - r.fee),
                                   LABELS[r.status], detail, f"W{r.id}"))
            if _wants(filters, "fee") and r.status == "sent" and r.fee:
                found.append(Entry(r.updated_at, "fee", r.asset, -r.fee, "network fee",
                                   f"withdrawal W{r.id}", f"W{r.id}"))

    if _wants(filters, "transfer"):
        sender, recipient = _users.alias("sender"), _users.alias("recipient")
        q = _window(select(_transfers, sender.c.email.label("from_email"),
                           recipient.c.email.label("to_email"))
                    .join(sender, sender.c.id == _transfers.c.from_user)
                    .join(recipient, recipient.c.id == _transfers.c.to_user)
                    .where(or_(_transfers.c.from_user == user_id,
                               _transfers.c.to_user == user_id)),
                    _transfers.c.created_at, filters)
        if asset:
            q = q.where(_transfers.c.asset == asset)
        for r in conn.execute(q.order_by(_transfers.c.id.desc()).limit(limit)):
            note = f" — {r.note}" if r.note else ""
            if r.from_user == user_id:
                found.append(Entry(r.created_at, "transfer", r.asset, -r.amount, "done",
                                   f"to {r.to_email}{note}", f"T{r.id}"))
            if r.to_user == user_id:
                found.append(Entry(r.created_at, "transfer", r.asset, r.amount, "done",
                                   f"from {r.from_email}{note}", f"T{r.id}"))

    if _wants(filters, "trade") or _wants(filters, "fee"):
        q = _window(select(_trades, _markets.c.base, _markets.c.quote)
                    .join(_markets, _markets.c.symbol == _trades.c.symbol)
                    .where(or_(_trades.c.maker_user_id == user_id,
                               _trades.c.taker_user_id == user_id)),
                    _trades.c.created_at, filters)
        if asset:
            q = q.where(or_(_markets.c.base == asset, _markets.c.quote == asset))
        precisions = assets(conn)
        for r in conn.execute(q.order_by(_trades.c.id.desc()).limit(limit)):
            sides = []
            if r.taker_user_id == user_id:
                sides.append((r.taker_side, r.taker_fee, "taker"))
            if r.maker_user_id == user_id:
                sides.append(("SELL" if r.taker_side == "BUY" else "BUY", r.maker_fee, "maker"))
            price = precisions[r.quote].format(r.price)
            for side, fee, role in sides:
                buy = side == "BUY"
                text = f"{side} {r.symbol} @ {price} ({role})"
                legs = [(r.base, r.quantity if buy else -r.quantity),
                        (r.quote, -r.notional if buy else r.notional)]
                if _wants(filters, "trade"):
                    for leg_asset, amount in legs:
                        if not asset or leg_asset == asset:
                            found.append(Entry(r.created_at, "trade", leg_asset, amount,
                                               "filled", text, f"X{r.id}"))
                fee_asset = r.base if buy else r.quote
                if fee and _wants(filters, "fee") and (not asset or fee_asset == asset):
                    found.append(Entry(r.created_at, "fee", fee_asset, -fee, "trading fee",
                                       text, f"X{r.id}"))

    found.sort(key=lambda e: (e.time, e.ref), reverse=True)
    return found[:limit]


def to_csv(conn: Connection, rows: list[Entry]) -> str:
    precisions = assets(conn)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time_utc", "type", "asset", "amount", "status", "detail", "reference"])
    for e in rows:
        precision = precisions[e.asset].precision
        amount = format_amount(abs(e.amount), precision).replace(",", "")
        writer.writerow([e.time.strftime("%Y-%m-%d %H:%M:%S"), e.type, e.asset,
                         ("-" if e.amount < 0 else "") + amount, e.status,
                         _safe_cell(e.detail), e.ref])
    return buffer.getvalue()


def _safe_cell(text: str) -> str:
    """No spreadsheet formula injection from notes or emails (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
