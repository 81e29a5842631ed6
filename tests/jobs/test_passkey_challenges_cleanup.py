"""The cleanup job forgets passkey challenges once they expired (anyone may ask for a sign-in
challenge, so they must not pile up); live ones stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bitchange import clock, db
from bitchange.accounts import passkeys
from bitchange.accounts.tables import WebAuthnChallenge
from bitchange.jobs import tasks


def _count() -> int:
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(WebAuthnChallenge.__table__))


def test_expired_challenges_are_removed(database):
    with db.write() as conn:
        passkeys.assertion_options(conn, None)
    assert "0 passkey challenges" in tasks.cleanup() and _count() == 1
    later = clock.now() + passkeys.CHALLENGE_LIFETIME + timedelta(seconds=1)
    with clock.freeze(lambda: later):
        assert "1 passkey challenges" in tasks.cleanup()
    assert _count() == 0
