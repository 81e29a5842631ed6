"""Internal transfers to another BitChange user, by email: 2FA, the same account checks as a
withdrawal, a daily limit in USDT (`TRANSFER_DAILY_LIMIT_USDT`), a note. Instant, through the
ledger; both sides get an email. The limit is the lower of that cap and the user's verification
level's (`bitchange.kyc`).

Weakness (noted): the recipient lookup tells a signed-in, 2FA-verified sender whether an email
has an account. Throttled by the 2FA code check, but still an enumeration channel.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, insert, select

from bitchange import db, ledger, ratelimits, routes
from bitchange.accounts.notices import notify
from bitchange.clock import now
from bitchange.db import retry
from bitchange.db.models import User
from bitchange.kyc import transfer_limit_usdt
from bitchange.mail.templates import Link, public_link
from bitchange.trading.markets import assets, format_usdt
from bitchange.wallet import policy, rules
from bitchange.wallet.errors import WalletError
from bitchange.wallet.pricing import limit_value_usdt
from bitchange.wallet.tables import Transfer

_transfers = Transfer.__table__
_users = User.__table__


def daily_limit(conn: Connection, user_id: int) -> int:
    """The lower of the operator's cap and the user's verification level's transfer limit."""
    return min(rules.transfer_daily_limit(), transfer_limit_usdt(conn, user_id))


def used_today(conn: Connection, user_id: int) -> int:
    return int(conn.scalar(select(func.coalesce(func.sum(_transfers.c.value_usdt), 0)).where(
        _transfers.c.from_user == user_id, _transfers.c.created_at > now() - rules.DAY)) or 0)


def _send(conn: Connection, user_id: int, recipient_email: str, asset: str, amount: int,
          note: str, code: str) -> int:
    sender = policy.check_can_send(conn, user_id)
    info = assets(conn).get(asset)
    if info is None:
        raise WalletError("Choose an asset.")
    if type(amount) is not int or amount <= 0:
        raise WalletError("Enter an amount greater than zero.")
    note = " ".join((note or "").split())
    if len(note) > 140:
        raise WalletError("The note can be at most 140 characters.")
    wanted = (recipient_email or "").strip().lower()
    recipient = conn.execute(select(_users.c.id, _users.c.frozen_at).where(
        _users.c.email == wanted)).first()
    if recipient is None:
        raise WalletError("No BitChange account uses that email address.")
    if recipient.id == user_id:
        raise WalletError("You cannot transfer to yourself.")
    if recipient.frozen_at is not None:
        raise WalletError("That account cannot receive transfers right now.")
    value = limit_value_usdt(conn, asset, amount, precision=info.precision)
    if value is None:
        raise WalletError(f"{asset} has no market price yet, so it cannot be checked against "
                          "your daily transfer limit.")
    limit, used = daily_limit(conn, user_id), used_today(conn, user_id)
    if used + value > limit:
        raise WalletError(
            f"This exceeds your daily transfer limit of {format_usdt(limit)} USDT per "
            f"24 hours ({format_usdt(used)} USDT used; this transfer is worth "
            f"{format_usdt(value)} USDT).")
    policy.check_code(conn, sender, code)
    transfer_id = conn.execute(insert(_transfers).values(
        from_user=user_id, to_user=recipient.id, asset=asset, amount=amount, value_usdt=value,
        note=note, created_at=now())).inserted_primary_key[0]
    try:
        tx_id = ledger.transfer(conn, ledger.account_for_user(conn, user_id),
                                ledger.account_for_user(conn, recipient.id), asset, amount,
                                ref_type="transfer", ref_id=transfer_id, memo=note[:255])
    except ledger.InsufficientFunds:
        raise WalletError(f"Insufficient available {asset} balance.") from None
    conn.execute(_transfers.update().where(_transfers.c.id == transfer_id).values(
        ledger_tx_id=tx_id))
    shown = f"{info.format(amount)} {asset}"
    history = Link("Open your history", public_link(routes.HISTORY))
    notify(conn, user_id, "transfer_sent", f"You sent {shown}", [
        f"You transferred {shown} to {wanted}." + (f" Note: {note}" if note else ""),
        "If this was not you, change your password and contact support now.",
    ], link=history)
    notify(conn, recipient.id, "transfer_received", f"You received {shown}", [
        f"{sender.email} sent you {shown} on BitChange." + (f" Note: {note}" if note else ""),
        "It is available in your account now.",
    ], link=history)
    return transfer_id


def send(user_id: int, recipient_email: str, asset: str, amount: int, note: str,
         code: str, *, ip: str = "") -> int:
    """Transfer now (own transaction, run again after a deadlock); a wrong 2FA code is counted
    against the throttle."""
    ratelimits.check("transfer", WalletError, ip=ip, account=user_id)
    try:
        return retry.write(lambda conn: _send(conn, user_id, recipient_email, asset, amount,
                                              note, code))
    except policy.BadCode:
        with db.write() as conn:
            policy.record_bad_code(conn, user_id)
        raise
