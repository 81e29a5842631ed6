"""TOTP secrets are sealed at rest: the database alone does not give away a second factor."""

from __future__ import annotations

import pyotp
from sqlalchemy import select, update

from bitchange import db
from bitchange.accounts import totp
from bitchange.accounts.sealing import PREFIX
from bitchange.accounts.users import create_user
from bitchange.config import reload_settings
from bitchange.db.models import User
from bitchange.setup import prepare_database
from tests.accounts.conftest import PASSWORD

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_users = User.__table__


def stored_secret(user_id: int) -> str:
    with db.read() as conn:
        return conn.scalar(select(_users.c.totp_secret).where(_users.c.id == user_id))


def code_verifies(user_id: int, secret: str = SECRET) -> bool:
    with db.write() as conn:
        return totp.verify(conn, user_id, pyotp.TOTP(secret).now())


def test_the_database_holds_no_totp_secret_in_the_clear(user):
    with db.write() as conn:
        enrolment = totp.begin_enrolment(conn, user, "trader@example.com")
    pending = stored_secret(user)
    assert pending.startswith(PREFIX) and enrolment.secret not in pending
    with db.write() as conn:
        totp.disable(conn, user)
        totp.enable_with_secret(conn, user, SECRET)
    assert SECRET not in stored_secret(user)
    assert code_verifies(user)


def test_a_sealed_secret_copied_to_another_user_does_not_work(user):
    with db.write() as conn:
        other = create_user(conn, "other@example.com", PASSWORD, verified=True)
        totp.enable_with_secret(conn, user, SECRET)
        totp.enable_with_secret(conn, other, pyotp.random_base32())
        conn.execute(update(_users).where(_users.c.id == other).values(
            totp_secret=stored_secret(user)))
    assert not code_verifies(other)


def test_another_secret_key_leaves_only_the_recovery_codes(user, monkeypatch):
    with db.write() as conn:
        totp.enable_with_secret(conn, user, SECRET)
        codes = totp.new_recovery_codes(conn, user)
    monkeypatch.setenv("SECRET_KEY", "another-long-random-secret-key-for-this-test-0123")
    reload_settings()
    try:
        assert not code_verifies(user)  # refused, not a crash
        with db.write() as conn:
            assert totp.verify(conn, user, codes[0]) is True
    finally:
        monkeypatch.delenv("SECRET_KEY")
        reload_settings()


def test_secrets_stored_in_the_clear_before_are_sealed_at_start(user):
    with db.write() as conn:
        totp.enable_with_secret(conn, user, SECRET)
        conn.execute(update(_users).where(_users.c.id == user).values(totp_secret=SECRET))
    assert code_verifies(user)  # still read as it is
    prepare_database()
    assert stored_secret(user).startswith(PREFIX)
    with db.write() as conn:  # a later step: the one above was used
        conn.execute(update(_users).where(_users.c.id == user).values(totp_last_step=None))
    assert code_verifies(user)

