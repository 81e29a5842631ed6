"""Withdrawals: an explicit state machine, funds held from request to payout.

    awaiting_email --confirm--> pending_review --approve--> approved --mark_sent--> sent
    awaiting_email | pending_review --cancel (user) / expire (system)--> cancelled  (release)
    pending_review | approved --reject (admin)--> rejected                           (release)
    awaiting_email | pending_review | approved --freeze (system)--> rejected         (release)

Freezing an account (`reject_for_frozen_account`, called in the freezing transaction) rejects
every open withdrawal of the user; confirm, approve and mark_sent refuse a frozen user's.

`TRANSITIONS` is the whole list: any other step raises InvalidTransition. Each step is one
conditional UPDATE on the expected current status (so two admins racing cannot both act), the
ledger movement it implies, a `withdrawal_events` row, an email to the user, and for admins an
audit-log entry, all in the caller's transaction.

The daily limit (the lower of the operator's cap and the user's verification level's, see
`bitchange.kyc`) is checked against the sum of the USDT value (at request time, at
`pricing.limit_price`, which one trade cannot push down; the four-eyes threshold too) of the
user's withdrawals requested in the last 24 hours that were not rejected or cancelled. An asset
without a trade price cannot be valued, so its withdrawals are refused with that reason (never
valued at zero).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from bitchange import db, ledger, ratelimits, routes
from bitchange.accounts import audit
from bitchange.accounts.notices import notify
from bitchange.accounts.tokens import new_token, token_hash
from bitchange.clock import now
from bitchange.db import retry
from bitchange.db.models import User
from bitchange.kyc import daily_withdrawal_limit_usdt
from bitchange.mail.templates import Link, public_link
from bitchange.trading.markets import assets, format_usdt
from bitchange.wallet import address_book, controls, policy, rules
from bitchange.wallet.errors import InvalidTransition, WalletError
from bitchange.wallet.pricing import limit_price, limit_value_usdt
from bitchange.wallet.tables import Withdrawal, WithdrawalAddress, WithdrawalEvent

_w = Withdrawal.__table__
_events = WithdrawalEvent.__table__
_book = WithdrawalAddress.__table__
_users = User.__table__

AWAITING_EMAIL = "awaiting_email"
PENDING_REVIEW = "pending_review"
APPROVED = "approved"
SENT = "sent"
REJECTED = "rejected"
CANCELLED = "cancelled"
OPEN = (AWAITING_EMAIL, PENDING_REVIEW, APPROVED)  # funds still held
LABELS = {AWAITING_EMAIL: "awaiting email confirmation", PENDING_REVIEW: "pending review",
          APPROVED: "approved", SENT: "sent", REJECTED: "rejected", CANCELLED: "cancelled"}

# (action, from status) -> to status. Nothing else is possible.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("confirm", AWAITING_EMAIL): PENDING_REVIEW,
    ("cancel", AWAITING_EMAIL): CANCELLED,
    ("expire", AWAITING_EMAIL): CANCELLED,
    ("cancel", PENDING_REVIEW): CANCELLED,
    ("approve", PENDING_REVIEW): APPROVED,
    ("reject", PENDING_REVIEW): REJECTED,
    ("reject", APPROVED): REJECTED,
    ("mark_sent", APPROVED): SENT,
    ("freeze", AWAITING_EMAIL): REJECTED,
    ("freeze", PENDING_REVIEW): REJECTED,
    ("freeze", APPROVED): REJECTED,
}
RELEASES = {CANCELLED, REJECTED}
TXID = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
FROZEN_REASON = "account frozen"
_FROZEN_ADMIN = ("The owner's account is frozen: this withdrawal cannot be {}. Reject it, or "
                 "unfreeze the account first.")


def _fmt_amount(conn: Connection, asset: str, amount: int) -> str:
    return f"{assets(conn)[asset].format(amount)} {asset}"


def _usdt(amount: int | None) -> str:
    return "unpriced" if amount is None else f"{format_usdt(amount)} USDT"


# --- the state machine -------------------------------------------------------------------------

def _transition(conn: Connection, withdrawal_id: int, action: str, *, actor_id: int | None,
                actor_role: str, detail: str = "", ip: str = "", user_id: int | None = None,
                **values: object):  # type: ignore[no-untyped-def]
    """Move one withdrawal along TRANSITIONS; returns its row as it was before."""
    query = select(_w).where(_w.c.id == withdrawal_id)
    if user_id is not None:
        query = query.where(_w.c.user_id == user_id)
    row = conn.execute(query).first()
    if row is None:
        raise WalletError("No such withdrawal.")
    target = TRANSITIONS.get((action, row.status))
    if target is None:
        raise InvalidTransition(
            f"A withdrawal that is {LABELS[row.status]} cannot be {_verb(action)}.")
    done = conn.execute(update(_w).where(_w.c.id == withdrawal_id, _w.c.status == row.status)
                        .values(status=target, updated_at=now(), **values))
    if done.rowcount != 1:  # someone else moved it first
        raise InvalidTransition("This withdrawal changed meanwhile; reload and try again.")
    if target in RELEASES:
        ledger.release(conn, ledger.account_for_user(conn, row.user_id), row.asset, row.amount,
                       ref_type="withdrawal", ref_id=withdrawal_id)
    elif target == SENT:
        tx_id = ledger.debit_withdrawal(conn, ledger.account_for_user(conn, row.user_id),
                                        row.asset, row.amount, fee=row.fee,
                                        ref_type="withdrawal", ref_id=withdrawal_id)
        conn.execute(update(_w).where(_w.c.id == withdrawal_id).values(final_tx_id=tx_id))
    conn.execute(insert(_events).values(
        withdrawal_id=withdrawal_id, action=action, from_status=row.status, to_status=target,
        actor_id=actor_id, actor_role=actor_role, detail=detail[:200], ip=ip[:64],
        created_at=now()))
    if actor_role == "admin" and actor_id is not None:
        audit.record(conn, actor_id, f"withdrawal_{action}", f"withdrawal {withdrawal_id}",
                     ip=ip, detail=f"{LABELS[row.status]} -> {LABELS[target]}"
                                   + (f": {detail}" if detail else ""))
    _email(conn, row, target, detail)
    return row


def _verb(action: str) -> str:
    return {"confirm": "confirmed", "cancel": "cancelled", "expire": "expired",
            "approve": "approved", "reject": "rejected", "mark_sent": "marked sent",
            "freeze": "rejected for a frozen account"}[action]


def _email(conn: Connection, row, status: str, detail: str) -> None:  # type: ignore[no-untyped-def]
    what = f"{_fmt_amount(conn, row.asset, row.amount)} to {row.address}"
    link = Link("See your withdrawals", public_link(routes.WITHDRAW, asset=row.asset))
    messages = {
        PENDING_REVIEW: ("Withdrawal confirmed: under review", [
            f"You confirmed your withdrawal of {what}.",
            "Our team reviews every withdrawal before it is sent. You can still cancel it "
            "until it is approved."]),
        APPROVED: ("Withdrawal approved", [
            f"Your withdrawal of {what} was approved and will be sent shortly."]),
        SENT: ("Withdrawal sent", [
            f"Your withdrawal of {what} was sent.",
            f"Transaction id: {detail}",
            f"Network fee: {_fmt_amount(conn, row.asset, row.fee)}; the recipient gets "
            f"{_fmt_amount(conn, row.asset, row.amount - row.fee)}."]),
        REJECTED: ("Withdrawal rejected", [
            f"Your withdrawal of {what} was rejected: {detail}",
            "The funds are available in your account again."]),
        CANCELLED: ("Withdrawal cancelled", [
            f"Your withdrawal of {what} was cancelled" + (f" ({detail})" if detail else "")
            + ".", "The funds are available in your account again.",
            "If you did not cancel it, change your password and contact support."]),
    }
    subject, paragraphs = messages[status]
    notify(conn, row.user_id, f"withdrawal_{status}", subject, paragraphs, link=link)


# --- requesting --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quote:
    """What a withdrawal of an asset costs and allows, for the form."""

    asset: str
    fee: int
    minimum: int
    daily_limit_usdt: int
    used_today_usdt: int
    price: int | None


def daily_limit(conn: Connection, user_id: int) -> int:
    """The user's withdrawal limit per rolling 24 hours in USDT minor units: the operator's
    cap (`WITHDRAWAL_DAILY_LIMIT_USDT`) or the user's verification level's, whichever is lower."""
    return min(rules.withdrawal_daily_limit(), daily_withdrawal_limit_usdt(conn, user_id))


def used_today(conn: Connection, user_id: int) -> int:
    since = now() - rules.DAY
    return int(conn.scalar(select(func.coalesce(func.sum(_w.c.value_usdt), 0)).where(
        _w.c.user_id == user_id, _w.c.created_at > since,
        _w.c.status.not_in((REJECTED, CANCELLED)))) or 0)


def quote(conn: Connection, user_id: int, asset: str) -> Quote:
    precision = assets(conn)[asset].precision
    return Quote(asset, rules.withdrawal_fee(asset, precision),
                 rules.withdrawal_minimum(asset, precision), daily_limit(conn, user_id),
                 used_today(conn, user_id), limit_price(conn, asset))


def _request(conn: Connection, user_id: int, address_id: int, amount: int, code: str,
             ip: str, expected_asset: str | None = None) -> int:
    sender = policy.check_can_send(conn, user_id)
    entry = address_book.get(conn, user_id, address_id)
    if entry is None:
        raise WalletError("Choose an address from your address book.")
    asset = entry.asset
    if expected_asset is not None and asset != expected_asset:
        raise WalletError(f"That address is a {asset} address; choose one of your "
                          f"{expected_asset} addresses.")
    reason = controls.paused_reason(conn, asset)
    if reason:
        raise WalletError(reason)
    moment = now()
    if not entry.confirmed:
        raise WalletError("Confirm this address from the link we emailed you before using it.")
    if not entry.usable(moment):
        raise WalletError("This address is new: it can be used from "
                          f"{entry.usable_from.strftime('%Y-%m-%d %H:%M UTC')}.")
    precision, shown = assets(conn)[asset].precision, assets(conn)[asset].format
    if type(amount) is not int or amount <= 0:
        raise WalletError("Enter an amount greater than zero.")
    fee, minimum = rules.withdrawal_fee(asset, precision), rules.withdrawal_minimum(asset,
                                                                                    precision)
    if amount < max(minimum, 1):
        raise WalletError(f"The minimum withdrawal is {shown(minimum)} "
                          f"{asset}.")
    if amount <= fee:
        raise WalletError(f"The amount must be more than the network fee "
                          f"({shown(fee)} {asset}).")
    value = limit_value_usdt(conn, asset, amount, precision=precision)
    if value is None:
        raise WalletError(f"{asset} has no market price yet, so it cannot be checked against "
                          "your daily withdrawal limit. Try again once it trades, or contact "
                          "support.")
    limit, used = daily_limit(conn, user_id), used_today(conn, user_id)
    if used + value > limit:
        raise WalletError(
            f"This exceeds your daily withdrawal limit: {_usdt(limit)} per 24 hours, of which "
            f"{_usdt(used)} is used; this withdrawal is worth {_usdt(value)}.")
    policy.check_code(conn, sender, code)

    token = new_token()
    withdrawal_id = conn.execute(insert(_w).values(
        user_id=user_id, asset=asset, address_id=entry.id, address=entry.address,
        amount=amount, fee=fee, value_usdt=value, status=AWAITING_EMAIL,
        token_hash=token_hash(token), token_expires_at=moment + rules.confirm_lifetime(),
        needs_two_approvals=value >= rules.withdrawal_four_eyes(), created_at=moment,
        updated_at=moment)).inserted_primary_key[0]
    # The conditional UPDATE of the ledger: never more than the available balance is held.
    try:
        hold_tx = ledger.hold(conn, ledger.account_for_user(conn, user_id), asset, amount,
                              ref_type="withdrawal", ref_id=withdrawal_id)
    except ledger.InsufficientFunds:
        raise WalletError(f"Insufficient available {asset} balance.") from None
    conn.execute(update(_w).where(_w.c.id == withdrawal_id).values(hold_tx_id=hold_tx))
    conn.execute(insert(_events).values(
        withdrawal_id=withdrawal_id, action="request", from_status="", to_status=AWAITING_EMAIL,
        actor_id=user_id, actor_role="user", ip=ip[:64], created_at=moment))
    minutes = int(rules.confirm_lifetime().total_seconds() // 60)
    notify(conn, user_id, "withdrawal_requested", "Confirm your withdrawal", [
        f"You asked to withdraw {shown(amount)} {asset} to {entry.address}"
        f" (network fee {shown(fee)} {asset}; the recipient gets {shown(amount - fee)} {asset}).",
        f"Confirm it with the link below within {minutes} minutes. Until then, and until our "
        "review, the funds are held in your account.",
        "If this was not you, cancel it from the same link and change your password now.",
    ], link=Link("Review and confirm", public_link(routes.WITHDRAW_CONFIRM, token=token)))
    return withdrawal_id


def request(user_id: int, address_id: int, amount: int, code: str, *, ip: str = "",
            asset: str | None = None) -> int:
    """Request a withdrawal (own transaction): checks, 2FA, daily limit, hold, email. A wrong
    2FA code is counted against the user's throttle even though nothing else is written.

    `asset`: the asset the caller parsed `amount` for (the form's); an address of another asset
    is refused, so an amount is never read with the wrong precision."""
    ratelimits.check("withdrawal", WalletError, ip=ip, account=user_id)
    try:
        return retry.write(lambda conn: _request(conn, user_id, address_id, amount, code, ip,
                                                 asset))
    except policy.BadCode:
        with db.write() as conn:
            policy.record_bad_code(conn, user_id)
        raise


# --- the emailed link --------------------------------------------------------------------------

@dataclass(frozen=True)
class WithdrawalView:
    id: int
    user_id: int
    asset: str
    address: str
    amount: int
    fee: int
    value_usdt: int | None
    status: str
    txid: str
    reason: str
    created_at: datetime
    updated_at: datetime
    needs_two_approvals: bool
    first_approver: int | None
    token_expires_at: datetime | None  # the emailed confirmation link's deadline

    @property
    def label(self) -> str:
        return LABELS[self.status]

    def link_expired(self, moment: datetime) -> bool:
        """Still awaiting its email confirmation past the link's deadline: `expire_stale` (the
        scheduled job) cancels it and releases the funds."""
        return (self.status == AWAITING_EMAIL and self.token_expires_at is not None
                and moment >= self.token_expires_at)


def _view(row) -> WithdrawalView:  # type: ignore[no-untyped-def]
    return WithdrawalView(row.id, row.user_id, row.asset, row.address, row.amount, row.fee,
                          row.value_usdt, row.status, row.txid, row.reason, row.created_at,
                          row.updated_at, bool(row.needs_two_approvals), row.first_approver,
                          row.token_expires_at)


def by_token(conn: Connection, token: str) -> WithdrawalView | None:
    """The withdrawal an emailed link is for, while it still awaits confirmation."""
    if not token:
        return None
    row = conn.execute(select(_w).where(_w.c.token_hash == token_hash(token),
                                        _w.c.status == AWAITING_EMAIL)).first()
    if row is None or now() >= row.token_expires_at:
        return None
    return _view(row)


def _refuse_if_frozen(conn: Connection, user_id: int, message: str) -> None:
    """Refuse to move a frozen user's withdrawal toward payout. The user row is locked (`FOR
    NO KEY UPDATE` on PostgreSQL, as the freezing UPDATE takes it) so this and a concurrent
    freeze run in turn: either the freeze sees the step done, or the step sees the freeze."""
    frozen_at = conn.scalar(select(_users.c.frozen_at).where(_users.c.id == user_id)
                            .with_for_update(key_share=True))
    if frozen_at is not None:
        raise WalletError(message)


def confirm(conn: Connection, token: str, *, ip: str = "") -> WithdrawalView:
    found = by_token(conn, token)
    if found is None:
        raise WalletError("This confirmation link is invalid, used or expired.")
    _refuse_if_frozen(conn, found.user_id, "Your account is frozen for your protection: "
                      "withdrawals are disabled. Contact support.")
    _transition(conn, found.id, "confirm", actor_id=found.user_id, actor_role="user", ip=ip,
                token_hash=None)
    return found


def cancel_by_token(conn: Connection, token: str, *, ip: str = "") -> WithdrawalView:
    found = by_token(conn, token)
    if found is None:
        raise WalletError("This link is invalid, used or expired.")
    _transition(conn, found.id, "cancel", actor_id=found.user_id, actor_role="user", ip=ip,
                detail="cancelled from the emailed link", token_hash=None,
                reason="cancelled by you")
    return found


def cancel(conn: Connection, user_id: int, withdrawal_id: int, *, ip: str = "") -> None:
    """The owner cancels before approval (ownership is checked: another user's id is 'no such
    withdrawal')."""
    _transition(conn, withdrawal_id, "cancel", actor_id=user_id, actor_role="user", ip=ip,
                user_id=user_id, token_hash=None, reason="cancelled by you")


def _lock_holds(conn: Connection, withdrawal_ids: list[int]) -> None:
    """Lock the balances that releasing these withdrawals touches, all at once in the ledger's
    order (one release after another would lock them in withdrawal order)."""
    if withdrawal_ids:
        rows = conn.execute(select(_w.c.user_id, _w.c.asset).where(_w.c.id.in_(withdrawal_ids)))
        ledger.lock_balances(conn, {(ledger.account_for_user(conn, user), asset)
                                    for user, asset in rows.all()})


def reject_for_frozen_account(conn: Connection, user_id: int) -> int:
    """Reject (system, "account frozen") every open withdrawal of `user_id`, releasing its funds.
    Called in the transaction that freezes the account, after the user row was updated (which
    locks it against concurrent approve / mark_sent). Returns how many were rejected."""
    ids = list(conn.scalars(select(_w.c.id).where(_w.c.user_id == user_id,
                                                  _w.c.status.in_(OPEN)).order_by(_w.c.id)))
    _lock_holds(conn, ids)
    for withdrawal_id in ids:
        _transition(conn, withdrawal_id, "freeze", actor_id=None, actor_role="system",
                    detail=FROZEN_REASON, reason=FROZEN_REASON, token_hash=None)
    return len(ids)


def expire_stale(conn: Connection) -> int:
    """Cancel requests whose email link expired unconfirmed (releases their funds)."""
    ids = list(conn.scalars(select(_w.c.id).where(_w.c.status == AWAITING_EMAIL,
                                                  _w.c.token_expires_at <= now())))
    _lock_holds(conn, ids)
    for withdrawal_id in ids:
        _transition(conn, withdrawal_id, "expire", actor_id=None, actor_role="system",
                    detail="email confirmation expired", token_hash=None,
                    reason="email confirmation expired")
    return len(ids)


# --- admin review ------------------------------------------------------------------------------

def _admin_checks(conn: Connection, admin_id: int, withdrawal_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(select(_w).where(_w.c.id == withdrawal_id)).first()
    if row is None:
        raise WalletError("No such withdrawal.")
    if row.user_id == admin_id:
        raise WalletError("Admins cannot review their own withdrawals.")
    return row


def approve(conn: Connection, admin_id: int, withdrawal_id: int, *, ip: str = "") -> str:
    """Approve; above the four-eyes threshold the first approval is recorded and a second,
    different admin's approval moves it to approved. Returns the resulting status label."""
    row = _admin_checks(conn, admin_id, withdrawal_id)
    _refuse_if_frozen(conn, row.user_id, _FROZEN_ADMIN.format("approved"))
    if row.status != PENDING_REVIEW:
        raise InvalidTransition(f"A withdrawal that is {LABELS[row.status]} cannot be approved.")
    if row.needs_two_approvals and row.first_approver is None:
        done = conn.execute(update(_w).where(
            _w.c.id == withdrawal_id, _w.c.status == PENDING_REVIEW,
            _w.c.first_approver.is_(None)).values(first_approver=admin_id, updated_at=now()))
        if done.rowcount != 1:
            raise InvalidTransition("This withdrawal changed meanwhile; reload and try again.")
        conn.execute(insert(_events).values(
            withdrawal_id=withdrawal_id, action="approve", from_status=PENDING_REVIEW,
            to_status=PENDING_REVIEW, actor_id=admin_id, actor_role="admin",
            detail="first of two approvals", ip=ip[:64], created_at=now()))
        audit.record(conn, admin_id, "withdrawal_approve", f"withdrawal {withdrawal_id}", ip=ip,
                     detail="first of two approvals (four-eyes)")
        return "first approval recorded; a second admin must approve"
    if row.needs_two_approvals and row.first_approver == admin_id:
        raise WalletError("A second, different admin must approve this withdrawal.")
    extra = {"second_approver": admin_id} if row.needs_two_approvals else {
        "first_approver": admin_id}
    _transition(conn, withdrawal_id, "approve", actor_id=admin_id, actor_role="admin", ip=ip,
                **extra)
    return LABELS[APPROVED]


def reject(conn: Connection, admin_id: int, withdrawal_id: int, reason: str, *,
           ip: str = "") -> None:
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise WalletError("Give the user a reason for the rejection.")
    _admin_checks(conn, admin_id, withdrawal_id)
    _transition(conn, withdrawal_id, "reject", actor_id=admin_id, actor_role="admin", ip=ip,
                detail=reason, reason=reason, token_hash=None)


def mark_sent(conn: Connection, admin_id: int, withdrawal_id: int, txid: str, *,
              ip: str = "") -> None:
    txid = (txid or "").strip()
    if not TXID.match(txid):
        raise WalletError("The transaction id must be 64 hexadecimal characters.")
    row = _admin_checks(conn, admin_id, withdrawal_id)
    _refuse_if_frozen(conn, row.user_id, _FROZEN_ADMIN.format("marked sent"))
    _transition(conn, withdrawal_id, "mark_sent", actor_id=admin_id, actor_role="admin", ip=ip,
                detail=txid.lower(), txid=txid.lower())


# --- reading -----------------------------------------------------------------------------------

def newest_event(conn: Connection) -> int:
    """The id of the latest withdrawal step (every status change writes one): the mark the
    live watcher reads each round."""
    return conn.scalar(select(func.max(_events.c.id))) or 0


def owners_changed_since(conn: Connection, after_id: int, users: set[int]) -> set[int]:
    """Which of `users` had a withdrawal step after `after_id`."""
    return set(conn.scalars(
        select(_w.c.user_id).distinct()
        .select_from(_events.join(_w, _w.c.id == _events.c.withdrawal_id))
        .where(_events.c.id > after_id, _w.c.user_id.in_(users))))


def of_user(conn: Connection, user_id: int, limit: int = 50) -> list[WithdrawalView]:
    return [_view(r) for r in conn.execute(select(_w).where(_w.c.user_id == user_id)
                                           .order_by(_w.c.id.desc()).limit(limit))]


def pending_amounts(conn: Connection, user_id: int) -> dict[str, int]:
    """asset -> amount held for the user's open withdrawals."""
    return {asset: int(total) for asset, total in conn.execute(
        select(_w.c.asset, func.sum(_w.c.amount)).where(
            _w.c.user_id == user_id, _w.c.status.in_(OPEN)).group_by(_w.c.asset))}


@dataclass(frozen=True)
class ReviewItem:
    withdrawal: WithdrawalView
    email: str
    account_age_days: int
    security_change: str  # "" or e.g. "password change 2026-... UTC"
    address_age_hours: int
    used_today_usdt: int
    daily_limit_usdt: int
    sent_before: int  # earlier withdrawals of this user that were sent
    first_approver_email: str
    events: list[str]
    frozen: bool = False  # the owner's account is frozen: reject, never pay out


def review_queue(conn: Connection, *, statuses: tuple[str, ...] = (PENDING_REVIEW, APPROVED,
                                                                   AWAITING_EMAIL),
                 limit: int = 100) -> list[ReviewItem]:
    """Open withdrawals with the risk context an admin decides on."""
    moment = now()
    rows = conn.execute(select(_w).where(_w.c.status.in_(statuses))
                        .order_by(_w.c.id).limit(limit)).all()
    items = []
    for row in rows:
        user = conn.execute(select(_users).where(_users.c.id == row.user_id)).one()
        changes = policy._security_changes(user)
        latest = max(changes) if changes else None
        security = (f"{latest[1]} change {latest[0].strftime('%Y-%m-%d %H:%M UTC')}"
                    if latest and moment - latest[0] < rules.DAY * 30 else "")
        if user.frozen_at is not None:  # shown first in the row's risk context
            security = "; ".join(filter(None, (
                f"FROZEN {user.frozen_at.strftime('%Y-%m-%d %H:%M UTC')}: "
                f"{user.frozen_reason or 'no reason given'}", security)))
        added = conn.scalar(select(_book.c.created_at).where(_book.c.id == row.address_id))
        sent_before = conn.scalar(select(func.count()).select_from(_w).where(
            _w.c.user_id == row.user_id, _w.c.status == SENT, _w.c.id != row.id)) or 0
        first = (conn.scalar(select(_users.c.email).where(_users.c.id == row.first_approver))
                 if row.first_approver else "")
        events = [f"{e.created_at.strftime('%m-%d %H:%M')} {e.actor_role} {e.action}"
                  + (f" ({e.detail})" if e.detail else "")
                  for e in conn.execute(select(_events).where(
                      _events.c.withdrawal_id == row.id).order_by(_events.c.id))]
        items.append(ReviewItem(
            _view(row), user.email, (moment - user.created_at).days, security,
            int((moment - added).total_seconds() // 3600) if added else 0,
            used_today(conn, row.user_id), daily_limit(conn, row.user_id), sent_before,
            first or "", events, user.frozen_at is not None))
    return items
