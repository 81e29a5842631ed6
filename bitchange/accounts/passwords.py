"""Password hashing: argon2 through passlib's CryptContext, so hashes upgrade on login when the
parameters change."""

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
