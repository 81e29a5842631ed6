"""What the admin wallet screens show: recorded deposits (those waiting for a second approval
and the recent ones), the withdrawal review queue with its risk context, and the dashboard's
withdrawal switches."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange.clock import when
from bitchange.trading.markets import assets, format_usdt
from bitchange.wallet import chains, controls, deposits, rules, withdrawals

Row = dict[str, str]


@dataclass(frozen=True)
class DepositsPage:
    pending: list[Row]  # waiting for a second admin
    recent: list[Row]  # the latest 50 others
    threshold: str  # USDT value from which a second approval is needed


def deposits_page(conn: Connection) -> DepositsPage:
    precisions = assets(conn)

    def row(d: deposits.DepositRow) -> Row:
        return {"id": str(d.id), "time": when(d.created_at), "email": d.email,
                "asset": d.asset, "amount": precisions[d.asset].format(d.amount),
                "txid": f"{d.txid}:{d.vout}", "conf": str(d.confirmations),
                "status": d.status.replace("_", " "), "by": d.recorded_by,
                "value": "unpriced" if d.value_usdt is None else format_usdt(d.value_usdt)}

    rows = deposits.list_deposits(conn, limit=100)
    return DepositsPage(
        pending=[row(d) for d in rows if d.status == "pending_approval"],
        recent=[row(d) for d in rows if d.status != "pending_approval"][:50],
        threshold=format_usdt(rules.deposit_second_approval()))


def review_rows(conn: Connection) -> list[Row]:
    """The open withdrawals an admin decides on. Reading only: requests whose email link
    expired are cancelled by the scheduled job (bitchange.jobs.tasks.expire_withdrawals)."""
    precisions = assets(conn)
    rows = []
    for item in withdrawals.review_queue(conn):
        w = item.withdrawal
        shown = precisions[w.asset].format
        approvals = ("needs 2 approvals" + (f"; 1st by {item.first_approver_email}"
                                            if item.first_approver_email else "")
                     if w.needs_two_approvals else "1 approval")
        rows.append({
            "id": str(w.id), "time": when(w.created_at), "email": item.email,
            "amount": f"{shown(w.amount)} {w.asset}",
            "fee": shown(w.fee), "address": w.address,
            "value": "unpriced" if w.value_usdt is None else format_usdt(
                w.value_usdt) + " USDT",
            "status": w.label, "raw_status": w.status, "approvals": approvals,
            "age": f"account {item.account_age_days} days old",
            "security": item.security_change or "no recent security change",
            "address_age": f"address added {item.address_age_hours} h ago",
            "limit": f"{format_usdt(item.used_today_usdt)} of "
                     f"{format_usdt(item.daily_limit_usdt)} USDT used today",
            "history": f"{item.sent_before} earlier withdrawals sent",
            "events": " · ".join(item.events),
        })
    return rows


def four_eyes_threshold() -> str:
    """The USDT value from which a withdrawal needs two different admins."""
    return format_usdt(rules.withdrawal_four_eyes())


def switch_rows(conn: Connection) -> list[Row]:
    """The dashboard's withdrawal switches: all withdrawals, then each withdrawable asset."""
    current = controls.pauses(conn)
    rows = []
    for scope in [controls.ALL, *chains.SCHEMES]:
        pause = current.get(scope)
        rows.append({"scope": scope, "label": "All withdrawals" if scope == controls.ALL else scope,
                     "paused": "yes" if pause and pause.paused else "",
                     "reason": pause.reason if pause else ""})
    return rows
