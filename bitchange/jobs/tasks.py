"""What the scheduler runs. Each task returns a one-line summary, or raises (a failed run)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, or_

from bitchange import db
from bitchange.accounts import throttle
from bitchange.accounts.tables import EmailToken, WebAuthnChallenge
from bitchange.alerts.service import fire_batch
from bitchange.clock import now
from bitchange.db.models import UserSession
from bitchange.documents.storage import remove_stale_uploads
from bitchange.ledger import reconcile as prove
from bitchange.mail.outbox import deliver_due
from bitchange.ops.alerts import alert_admins
from bitchange.ops.backup import run_backup
from bitchange.proof.snapshot import publish
from bitchange.staking.accrual import accrue_due, summary
from bitchange.wallet import withdrawals

log = logging.getLogger(__name__)

SESSION_GRACE = timedelta(days=7)  # ended sessions stay visible in the security centre a while
TOKEN_GRACE = timedelta(days=1)


class ReconcileFailed(RuntimeError):
    """The books do not balance; the admins were alerted."""


def outbox() -> str:
    return f"{deliver_due()} delivered"


def backup() -> str:
    result = run_backup("schedule")
    return f"{result.name} ({result.size} bytes){' uploaded' if result.remote_key else ''}"


def reconcile() -> str:
    with db.read() as conn:
        report = prove(conn)
    if report.ok:
        return report.summary()
    summary = report.summary()
    with db.write() as conn:
        alert_admins(conn, "BitChange ledger reconciliation found discrepancies",
                     "The scheduled reconciliation found discrepancies in the books:\n\n"
                     f"{summary}\n\nInvestigate before processing withdrawals (admin dashboard, "
                     "`python -m bitchange reconcile`).")
    raise ReconcileFailed(summary)


def staking_accrual() -> str:
    """Pay the staking rewards of every complete day still unpaid (idempotent per position and
    day; see bitchange.staking.accrual)."""
    return summary(accrue_due())


def expire_withdrawals() -> str:
    """Cancel withdrawal requests whose email confirmation link expired, releasing the funds."""
    with db.write() as conn:
        expired = withdrawals.expire_stale(conn)
    return f"{expired} unconfirmed withdrawal requests expired"


def cleanup() -> str:
    """Forget sessions and email tokens that can no longer be used, and old throttle records."""
    """Forget sessions, email tokens and passkey challenges that can no longer be used, and old
    throttle records."""
    sessions, tokens = UserSession.__table__, EmailToken.__table__
    challenges = WebAuthnChallenge.__table__
    moment = now()
    with db.write() as conn:
        gone_sessions = conn.execute(delete(sessions).where(or_(
            sessions.c.expires_at < moment - SESSION_GRACE,
            sessions.c.revoked_at < moment - SESSION_GRACE,
        ))).rowcount
        gone_tokens = conn.execute(delete(tokens).where(or_(
            tokens.c.expires_at < moment - TOKEN_GRACE,
            tokens.c.used_at < moment - TOKEN_GRACE,
        ))).rowcount
        gone_challenges = conn.execute(delete(challenges).where(
            challenges.c.expires_at < moment)).rowcount
        gone_throttle = throttle.prune(conn)
    return (f"{gone_sessions} sessions, {gone_tokens} email tokens, {gone_challenges} passkey "
            f"challenges, {gone_throttle} throttle records removed")


def stale_uploads() -> str:
    """Remove uploads that no KYC submission or support message took within an hour."""
    unsent, stray = remove_stale_uploads()
    return f"{unsent} unsent uploads and {stray} stray files removed"


def proof_snapshot() -> str:
    """Publish a proof-of-liabilities snapshot (refused, and the admins alerted, when the books
    do not reconcile)."""
    return publish(trigger="schedule").summary()


def price_alerts() -> str:
    """Fire the price alerts reached by the trades since the last run (exactly once each)."""
    total, more = 0, True
    while more:
        with db.write() as conn:
            fired, more = fire_batch(conn)
        total += fired
    return f"{total} price alerts fired"
