"""Users: creation and credential checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from bitchange.accounts.passwords import hash_password, is_common, unusable, verify_password
from bitchange.clock import now
from bitchange.db.models import User
from bitchange.ledger import account_for_user

_users = User.__table__
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """A refused account operation; the message is safe to show."""


@dataclass(frozen=True)
class UserInfo:
    id: int
    email: str
    is_admin: bool
    email_verified: bool
    frozen: bool
    closed: bool = False


def normalize_email(email: str) -> str:
    cleaned = (email or "").strip().lower()
    if not _EMAIL.match(cleaned) or len(cleaned) > 254:
        raise AccountError("Enter a valid email address")
    return cleaned


def check_password_usable(password: str) -> None:
    """Every password a person sends, new or to check, is bounded (see `passwords.unusable`)."""
    problem = unusable(password)
    if problem:
        raise AccountError(problem)


def repeated_password(form: dict) -> str:
    """A new password from a form that asks for it twice (`password`, `confirm`)."""
    password = str(form.get("password", ""))
    if password != str(form.get("confirm", "")):
        raise AccountError("The two passwords do not match.")
    return password


def check_password_policy(password: str, email: str) -> None:
    check_password_usable(password)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip().lower() == email.lower():
        raise AccountError("Password must not be your email address")
    if is_common(password):
        raise AccountError("This password is too common; choose another one")


def create_user(
    conn: Connection, email: str, password: str, *, is_admin: bool = False,
    verified: bool = False,
) -> int:
    email = normalize_email(email)
    check_password_policy(password, email)
    if conn.scalar(select(_users.c.id).where(_users.c.email == email)) is not None:
        raise AccountError("An account with this email already exists")
    user_id = conn.execute(insert(_users).values(
        email=email, password_hash=hash_password(password), is_admin=is_admin,
        email_verified_at=now() if verified else None, created_at=now(),
    )).inserted_primary_key[0]
    account_for_user(conn, user_id)
    return user_id


def _info(row) -> UserInfo:  # type: ignore[no-untyped-def]
    return UserInfo(row.id, row.email, bool(row.is_admin), row.email_verified_at is not None,
                    row.frozen_at is not None, row.closed_at is not None)


def get_user(conn: Connection, user_id: int) -> UserInfo | None:
    row = conn.execute(select(_users).where(_users.c.id == user_id)).first()
    return _info(row) if row else None


def get_user_by_email(conn: Connection, email: str) -> UserInfo | None:
    row = conn.execute(select(_users).where(_users.c.email == email.strip().lower())).first()
    return _info(row) if row else None


def authenticate(conn: Connection, email: str, password: str) -> UserInfo | None:
    """The user if the credentials match, else None; same cost whether the email exists or not."""
    wanted = (email or "").strip().lower()
    row = conn.execute(select(_users).where(_users.c.email == wanted)).first()
    ok, new_hash = verify_password(password, row.password_hash if row else None)
    if not ok or row is None:
        return None
    if new_hash:
        conn.execute(update(_users).where(_users.c.id == row.id).values(password_hash=new_hash))
    return _info(row)


def set_admin(conn: Connection, user_id: int, is_admin: bool) -> None:
    conn.execute(update(_users).where(_users.c.id == user_id).values(is_admin=is_admin))
