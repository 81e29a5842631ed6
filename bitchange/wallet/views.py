"""What the wallet screens show, as small JSON-ready rows: the balances, a deposit address and
the recent deposits, the withdraw page (address book, form terms, the user's withdrawals), the
emailed withdrawal link, the transfer form and the history. No Reflex here, so it is testable
without a browser; every builder only reads, and each private view is built for the one user
it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange import ledger, routes
from bitchange.accounts.totp import qr_data_uri
from bitchange.clock import now, when
from bitchange.money import format_asset
from bitchange.trading.markets import assets, format_usdt
from bitchange.wallet import (
    address_book,
    chains,
    controls,
    deposits,
    history,
    rules,
    transfers,
    withdrawals,
)
from bitchange.wallet.overview import overview

Row = dict[str, str]
HISTORY_SHOWN = 300  # rows on the history page; the CSV carries every matching entry
RECENT_DEPOSITS = 20
# An unconfirmed request past its link's deadline, until the scheduled job cancels it.
EXPIRED = ("confirmation expired", "the funds are released within minutes")


def page_asset(wanted: str) -> str:
    """The asset a deposit or withdraw page shows for its `?asset=` (BTC when unknown)."""
    wanted = wanted.upper()
    return wanted if wanted in chains.SCHEMES else "BTC"


# --- balances ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WalletView:
    rows: list[Row]
    total_usdt: str
    unpriced: str  # the assets held without a price yet, comma separated


def wallet_view(conn: Connection, user_id: int) -> WalletView:
    view = overview(conn, user_id)

    def row(line) -> Row:  # type: ignore[no-untyped-def]
        def fmt(amount: int) -> str:
            return format_asset(amount, line.precision, line.decimals)

        return {
            "asset": line.asset, "name": line.name, "total": fmt(line.total),
            "available": fmt(line.available), "in_orders": fmt(line.in_orders),
            "pending": fmt(line.pending_withdrawal),
            "value": "no price" if line.value_usdt is None else format_usdt(line.value_usdt),
            "deposit": f"{routes.DEPOSIT}?asset={line.asset}",
            "withdraw": f"{routes.WITHDRAW}?asset={line.asset}",
            "trade": routes.trade(f"{line.asset}-USDT" if line.asset != "USDT" else "BTC-USDT"),
        }

    return WalletView([row(line) for line in view.lines], format_usdt(view.total_usdt),
                      ", ".join(view.unpriced))


# --- deposit -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DepositView:
    asset: str
    available: bool  # deposits of the asset are possible (a key is configured)
    address: str  # "" while none is assigned yet (`deposits.deposit_address` assigns it)
    qr: str  # the address as a QR code image (data URI), or ""
    network: str
    reason: str  # why deposits are unavailable
    confirmations: int
    rows: list[Row]  # the user's recent deposits of the asset


def deposit_view(conn: Connection, user_id: int, asset: str) -> DepositView:
    info = deposits.current_address(conn, user_id, asset)
    shown = assets(conn)[asset].format
    mine = history.entries(conn, user_id, history.Filters(type="deposit", asset=asset),
                           limit=RECENT_DEPOSITS)
    return DepositView(
        asset, info.available, info.address, qr_data_uri(info.address) if info.address else "",
        info.network, info.reason, rules.min_confirmations(asset),
        [{"time": when(e.time), "amount": shown(e.amount), "status": e.status,
          "detail": e.detail} for e in mine])


# --- withdraw ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WithdrawView:
    book: list[Row]  # the address book for the asset
    ready: list[Row]  # its addresses usable now, for the form
    rows: list[Row]  # the user's withdrawals of the asset
    available: str
    fee: str
    minimum: str
    limit: str
    paused: str  # why withdrawals of the asset are paused, or ""


def _status(w: withdrawals.WithdrawalView, moment) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(status, reason) as the list shows them. A request whose link expired unconfirmed reads
    as such until the scheduled job (`bitchange.jobs.tasks.expire_withdrawals`) cancels it."""
    if w.link_expired(moment):
        return EXPIRED
    return w.label, w.reason


def withdraw_view(conn: Connection, user_id: int, asset: str) -> WithdrawView:
    moment = now()
    shown = assets(conn)[asset].format
    entries = address_book.entries(conn, user_id, asset)
    mine = [w for w in withdrawals.of_user(conn, user_id) if w.asset == asset]
    q = withdrawals.quote(conn, user_id, asset)
    balance = ledger.user_balances(conn, user_id)
    rows = []
    for w in mine:
        status, reason = _status(w, moment)
        rows.append({
            "id": str(w.id), "time": when(w.created_at), "amount": shown(w.amount),
            "receive": shown(w.amount - w.fee), "address": w.address, "status": status,
            "txid": w.txid, "reason": reason,
            "cancellable": "yes" if w.status in (withdrawals.AWAITING_EMAIL,
                                                 withdrawals.PENDING_REVIEW) else "",
        })
    return WithdrawView(
        book=[{"id": str(e.id), "address": e.address, "label": e.label,
               "state": e.state(moment), "added": when(e.created_at)} for e in entries],
        ready=[{"id": str(e.id), "text": f"{e.label} {e.address}".strip()}
               for e in entries if e.usable(moment)],
        rows=rows,
        available=shown(balance.get(asset, (0, 0))[0]),
        fee=shown(q.fee), minimum=shown(q.minimum),
        limit=(f"{format_usdt(q.used_today_usdt)} of {format_usdt(q.daily_limit_usdt)} USDT "
               "used in the last 24h"),
        paused=controls.paused_reason(conn, asset) or "")


def withdrawal_summary(conn: Connection, token: str) -> str | None:
    """What the emailed confirmation link is for, or None when it is invalid, used or expired."""
    found = withdrawals.by_token(conn, token)
    if found is None:
        return None
    shown = assets(conn)[found.asset].format
    return (f"{shown(found.amount)} {found.asset} to {found.address} (network fee "
            f"{shown(found.fee)}; the recipient gets {shown(found.amount - found.fee)})")


# --- transfer ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TransferView:
    assets: list[str]
    limit: str


def transfer_view(conn: Connection, user_id: int) -> TransferView:
    used, limit = transfers.used_today(conn, user_id), transfers.daily_limit(conn, user_id)
    return TransferView(list(assets(conn)),
                        f"{format_usdt(used)} of {format_usdt(limit)} USDT used in the last 24h")


# --- history -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryView:
    assets: list[str]
    rows: list[Row]  # the newest HISTORY_SHOWN entries
    count: int  # how many entries the filters select
    error: str  # a filter that cannot be applied: no rows then


def history_filters(known_assets: list[str], type_: str = "", asset: str = "", start: str = "",
                    end: str = "") -> history.Filters:
    """The filters for what the form holds: an unknown type or asset means "any"; a date that
    is not YYYY-MM-DD raises ValueError."""
    return history.Filters(type=type_ if type_ in history.TYPES else "",
                           asset=asset if asset in known_assets else "",
                           start=history.parse_day(start), end=history.parse_day(end))


def history_view(conn: Connection, user_id: int, type_: str = "", asset: str = "",
                 start: str = "", end: str = "") -> HistoryView:
    precisions = assets(conn)
    known = list(precisions)
    try:
        found = history.entries(conn, user_id, history_filters(known, type_, asset, start, end))
    except ValueError as exc:
        return HistoryView(known, [], 0, str(exc))
    return HistoryView(known, [{
        "time": when(e.time), "type": e.type, "asset": e.asset,
        "amount": ("-" if e.amount < 0 else "+") + precisions[e.asset].format(abs(e.amount)),
        "status": e.status, "detail": e.detail, "ref": e.ref,
    } for e in found[:HISTORY_SHOWN]], len(found), "")


def history_csv(conn: Connection, user_id: int, type_: str = "", asset: str = "",
                start: str = "", end: str = "") -> str:
    """Every entry the filters select, as CSV; ValueError for a filter that cannot apply."""
    filters = history_filters(list(assets(conn)), type_, asset, start, end)
    return history.to_csv(conn, history.entries(conn, user_id, filters))
