"""Binance's user data stream on a listenKey (user-data-stream.md): `executionReport` for each
order change of the user (a conditional order's trigger included), `listStatus` for each
change of an OCO list, `outboundAccountPosition` when balances move, `balanceUpdate` for
money that comes or goes outside trading (deposits, withdrawals, transfers...).

Read by the same watcher round as the public streams, so from the same marks: an order's
changes between two rounds are the orders whose `book_seq` lies in the market's
(previous seq, new seq], its fills the round's new trades; balance changes are the ledger
entries after the newest ledger transaction the watcher had seen.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from bitchange.accounts.tables import ApiKey, ApiListenKey
from bitchange.api.stream_events import Precisions, ms, now_ms
from bitchange.clock import now
from bitchange.db.models import Balance, LedgerAccount, LedgerEntry, LedgerTransaction
from bitchange.money import to_decimal
from bitchange.trading import conditional
from bitchange.trading.markets import assets
from bitchange.trading.tables import Order

_listen = ApiListenKey.__table__
_keys = ApiKey.__table__
_orders = Order.__table__
_accounts = LedgerAccount.__table__
_entries = LedgerEntry.__table__
_ledger_transactions = LedgerTransaction.__table__
_balances = Balance.__table__

_STATUS = {"pending": "NEW", "open": "NEW", "partially_filled": "PARTIALLY_FILLED",
           "filled": "FILLED", "cancelled": "CANCELED", "expired": "EXPIRED"}
# Why an order ended, as Binance's expiry reason (`eR`).
_EXPIRY = {"OCO": "OCO_TRIGGER", "MARKET_NO_LIQUIDITY": "INSUFFICIENT_LIQUIDITY",
           "TRIGGER_REJECTED": "REJECTED", "IOC": "UNFILLED_IOC_QUANTITY_EXPIRED",
           "FOK": "UNFILLED_FOK_ORDER_EXPIRED"}
TRADING_KINDS = frozenset({"order", "hold", "release", "settle"})  # trading: no balanceUpdate


def listen_key_owner(conn: Connection, listen_key: str) -> int | None:
    """The user of a live listenKey whose API key is neither revoked nor expired."""
    moment = now()
    return conn.scalar(
        select(_listen.c.user_id).join(_keys, _keys.c.id == _listen.c.api_key_id)
        .where(_listen.c.listen_key == listen_key, _listen.c.expires_at > moment,
               _keys.c.revoked_at.is_(None),
               (_keys.c.expires_at.is_(None)) | (_keys.c.expires_at > moment)))


def order_status(order) -> str:  # type: ignore[no-untyped-def]
    """Binance's status of an order row: EXPIRED_IN_MATCH when self-trade prevention ended
    it."""
    if order.status == "expired" and order.expire_reason == "STP":
        return "EXPIRED_IN_MATCH"
    return _STATUS[order.status]


def order_type(order) -> str:  # type: ignore[no-untyped-def]
    """Binance's type of an order row."""
    if order.stop_type is not None:
        return order.stop_type + ("_LIMIT" if order.kind == "limit" else "")
    if order.kind == "market":
        return "MARKET"
    return "LIMIT_MAKER" if order.post_only else "LIMIT"


def _triggered_now(order) -> bool:  # type: ignore[no-untyped-def]
    """A conditional order whose last change was its trigger (the command that triggered it
    stamps both with one moment; any later change moves `updated_at`)."""
    return order.triggered_at is not None and order.triggered_at == order.updated_at


def execution_report(order, p: Precisions, event_ms: int, *, execution: str,  # type: ignore[no-untyped-def]
                     status: str, cumulative: int, cumulative_quote: int, fill=None,
                     fee: int = 0, fee_asset: str | None = None) -> dict:
    """One `executionReport`; `fill` (a trade row) for execution type TRADE."""
    report = {
        "e": "executionReport", "E": event_ms, "s": p.symbol,
        "c": order.client_order_id or str(order.id), "S": order.side, "o": order_type(order),
        "f": order.tif if order.kind == "limit" else "GTC",
        "q": p.qty(order.quantity or 0), "p": p.price(order.price or 0),
        "P": p.price(order.stop_price or 0), "F": p.qty(0),
        "g": order.order_list_id if order.order_list_id is not None else -1, "C": "",
        "x": execution, "X": status, "r": "NONE",
        "i": order.id, "l": p.qty(fill.quantity if fill is not None else 0),
        "z": p.qty(cumulative), "L": p.price(fill.price if fill is not None else 0),
        "n": f"{to_decimal(fee, p.base if fee_asset == 'base' else p.quote):f}"
             if fee_asset else "0",
        "N": None if fee_asset is None else (p.base_asset if fee_asset == "base"
                                            else p.quote_asset),
        "T": ms(fill.created_at if fill is not None else order.updated_at),
        "t": fill.id if fill is not None else -1, "I": 0,
        "w": status in ("NEW", "PARTIALLY_FILLED") and order.kind == "limit"
             and order.remaining > 0,
        "m": fill is not None and fill.maker_order_id == order.id, "M": False,
        "O": ms(order.created_at), "Z": p.price(cumulative_quote),
        "Y": p.price(fill.notional if fill is not None else 0),
        "Q": p.price(conditional.sized_by_total(order)), "W": ms(order.created_at), "V": "NONE",
    }
    if order.stop_type is not None:
        if order.triggered_at is None:
            del report["W"]  # not working yet
        else:
            report["W"] = ms(order.triggered_at)
    if order.trailing_delta is not None:
        report["d"] = order.trailing_delta
        if order.trail_extreme is not None:
            report["D"] = ms(order.updated_at)
    if execution == "CANCELED":  # Binance: "the ID of the order being canceled"
        report["C"] = report["c"]
    if execution in ("EXPIRED", "CANCELED") and order.expire_reason in _EXPIRY:
        report["eR"] = _EXPIRY[order.expire_reason]
    return report


# Execution ids (`I`) of one round: its last update's seq, then the report's place in it; every
# process numbers a round alike, and later rounds higher.
ROUND_REPORTS = 1_000_000


def order_reports(conn: Connection, symbol: str, users: frozenset[int], after_seq: int,
                  upto_seq: int, after_order_id: int, new_trades: list, p: Precisions,  # type: ignore[type-arg]
                  ) -> dict[int, list[dict]]:
    """Per user: the reports of their orders changed by updates after_seq+1..upto_seq, in
    order: NEW for an order placed since, a TRADE per fill (with the running totals), then
    CANCELED or EXPIRED when it ended so."""
    if not users or upto_seq <= after_seq:
        return {}
    event_ms = now_ms()
    rows = conn.execute(select(_orders).where(
        _orders.c.symbol == symbol, _orders.c.user_id.in_(users),
        _orders.c.book_seq > after_seq, _orders.c.book_seq <= upto_seq)
        .order_by(_orders.c.id)).all()
    out: dict[int, list[dict]] = {}
    execution_id = upto_seq * ROUND_REPORTS
    for order in rows:
        fills = [t for t in new_trades if order.id in (t.maker_order_id, t.taker_order_id)]
        filled = order.filled_quantity - sum(t.quantity for t in fills)
        filled_quote = order.filled_quote - sum(t.notional for t in fills)
        reports = out.setdefault(order.user_id, [])
        numbered = len(reports)
        if order.id > after_order_id:
            reports.append(execution_report(order, p, event_ms, execution="NEW",
                                            status="NEW", cumulative=0, cumulative_quote=0))
        if _triggered_now(order):  # it starts working: reported as new again, on the book
            reports.append(execution_report(order, p, event_ms, execution="NEW",
                                            status="NEW", cumulative=0, cumulative_quote=0))
        for fill in fills:
            filled, filled_quote = filled + fill.quantity, filled_quote + fill.notional
            done = filled == order.quantity and order.quantity is not None
            maker = fill.maker_order_id == order.id
            reports.append(execution_report(
                order, p, event_ms, execution="TRADE",
                status="FILLED" if done or (fill is fills[-1] and order.status == "filled")
                else "PARTIALLY_FILLED", cumulative=filled, cumulative_quote=filled_quote,
                fill=fill, fee=fill.maker_fee if maker else fill.taker_fee,
                fee_asset="base" if order.side == "BUY" else "quote"))
        if order.status in ("cancelled", "expired"):
            status = order_status(order)
            ended = {"EXPIRED_IN_MATCH": "TRADE_PREVENTION"}.get(status, status)
            reports.append(execution_report(order, p, event_ms, execution=ended,
                                            status=status, cumulative=order.filled_quantity,
                                            cumulative_quote=order.filled_quote))
        for report in reports[numbered:]:  # in order id order across users: unique
            execution_id += 1
            report["I"] = execution_id
    for list_id, owner in sorted({(o.order_list_id, o.user_id) for o in rows
                                  if o.order_list_id is not None}):
        out.setdefault(owner, []).append(list_status(conn, list_id, p, event_ms))
    return out


def list_client_id(leg) -> str:  # type: ignore[no-untyped-def]
    """An OCO list's client id: the one it was placed with, or `oco-<list id>`."""
    return leg.list_client_order_id or f"oco-{leg.order_list_id}"


def list_status(conn: Connection, list_id: int, p: Precisions, event_ms: int) -> dict:  # type: ignore[type-arg]
    """A `listStatus` event of an OCO list, as its legs are now."""
    legs = conn.execute(select(_orders).where(_orders.c.order_list_id == list_id)
                        .order_by(_orders.c.id)).all()
    live = any(leg.status in ("pending", "open", "partially_filled") for leg in legs)
    return {
        "e": "listStatus", "E": event_ms, "s": p.symbol, "g": list_id, "c": "OCO",
        "l": "EXEC_STARTED" if live else "ALL_DONE", "L": "EXECUTING" if live else "ALL_DONE",
        "r": "NONE", "C": list_client_id(legs[0]), "T": ms(max(leg.updated_at for leg in legs)),
        "O": [{"s": p.symbol, "i": leg.id, "c": leg.client_order_id or str(leg.id)}
              for leg in legs],
    }


def balance_events(conn: Connection, after_tx: int, upto_tx: int,
                   users: frozenset[int]) -> dict[int, list[dict]]:
    """Per user: a `balanceUpdate` per non-trading ledger transaction after `after_tx` that
    moved their available balance, then one `outboundAccountPosition` with every asset that
    moved."""
    if not users or upto_tx <= after_tx:
        return {}
    rows = conn.execute(
        select(_accounts.c.user_id, _entries.c.asset, _entries.c.bucket, _entries.c.amount,
               _ledger_transactions.c.id, _ledger_transactions.c.kind,
               _ledger_transactions.c.created_at)
        .select_from(_entries.join(_accounts, _accounts.c.id == _entries.c.account_id)
                     .join(_ledger_transactions,
                           _ledger_transactions.c.id == _entries.c.transaction_id))
        .where(_entries.c.transaction_id > after_tx, _entries.c.transaction_id <= upto_tx,
               _accounts.c.user_id.in_(users))
        .order_by(_entries.c.transaction_id, _entries.c.id)).all()
    if not rows:
        return {}
    precision = {code: info.precision for code, info in assets(conn).items()}
    event_ms = now_ms()
    out: dict[int, list[dict]] = {}
    moved: dict[int, set[str]] = {}
    deltas: dict[tuple[int, int, str], tuple[int, object]] = {}
    for user, asset, bucket, amount, tx_id, kind, created in rows:
        moved.setdefault(user, set()).add(asset)
        if kind not in TRADING_KINDS and bucket == "available":
            total, _ = deltas.get((user, tx_id, asset), (0, created))
            deltas[(user, tx_id, asset)] = (total + amount, created)
    for (user, _tx, asset), (delta, created) in deltas.items():
        if delta:
            out.setdefault(user, []).append({
                "e": "balanceUpdate", "E": event_ms, "a": asset,
                "d": f"{to_decimal(delta, precision[asset]):f}", "T": ms(created)})  # type: ignore[arg-type]
    for user, codes in moved.items():
        held = conn.execute(
            select(_balances.c.asset, _balances.c.available, _balances.c.locked)
            .join(_accounts, _accounts.c.id == _balances.c.account_id)
            .where(_accounts.c.user_id == user, _balances.c.asset.in_(codes))
            .order_by(_balances.c.asset)).all()
        out.setdefault(user, []).append({
            "e": "outboundAccountPosition", "E": event_ms, "u": event_ms,
            "B": [{"a": a, "f": f"{to_decimal(free, precision[a]):f}",
                   "l": f"{to_decimal(locked, precision[a]):f}"} for a, free, locked in held]})
    return out
