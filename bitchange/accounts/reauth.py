"""Fresh proof of the owner before a sensitive change: the password and, when 2FA is on, a
second factor (a code, a recovery code or a passkey: `totp.verify`), under the `reauth`
throttle."""

from __future__ import annotations

from sqlalchemy import Connection, select

from bitchange import ratelimits
from bitchange.accounts import throttle, totp
from bitchange.accounts.passwords import verify_password
from bitchange.accounts.users import AccountError, check_password_usable
from bitchange.db.models import User

_users = User.__table__
WRONG = "The password or the code is not correct."


def check(conn: Connection, user_id: int, password: str, code: str, *,
          need_two_factor: bool = True) -> None:
    """Raise AccountError unless the password is right and (2FA on, or `need_two_factor` and
    2FA off is refused) the second factor is too. A failure counts against the throttle."""
    check_password_usable(password)
    ratelimits.check("two_factor", AccountError, account=user_id)
    row = conn.execute(select(_users.c.email, _users.c.password_hash,
                              _users.c.totp_enabled_at).where(_users.c.id == user_id)).one()
    wait = throttle.retry_after(conn, "reauth", row.email)
    if wait:
        raise AccountError(f"Too many attempts. Try again in {throttle.describe_wait(wait)}.")
    if row.totp_enabled_at is None and need_two_factor:
        raise AccountError("Turn on two-factor authentication first.")
    password_ok = verify_password(password, row.password_hash)[0]
    # The second factor is only spent once the password is right.
    if not (password_ok and (row.totp_enabled_at is None or totp.verify(conn, user_id, code))):
        throttle.hit(conn, "reauth", row.email)
        raise AccountError(WRONG)
