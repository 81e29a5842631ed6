"""Password hashing: argon2 through passlib's CryptContext, so hashes upgrade on login when the
parameters change."""

from functools import lru_cache
from pathlib import Path

from passlib.context import CryptContext

_context = CryptContext(schemes=["argon2"], deprecated="auto")
# Verified against when the account does not exist, so both paths cost the same time.
_DUMMY_HASH = _context.hash("timing-equaliser-not-a-password")


def hash_password(password: str) -> str:
    return _context.hash(password)


def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """(matches, new hash to store if the parameters changed)."""
    if stored_hash is None:
        _context.verify(password, _DUMMY_HASH)
        return False, None
    return _context.verify_and_update(password, stored_hash)


_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lowercase)."""
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    return password.strip().lower() in common_passwords()
