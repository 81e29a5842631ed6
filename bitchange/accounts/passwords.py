"""Password hashing: argon2 through passlib's CryptContext, so hashes upgrade on login when the
parameters change."""

from functools import lru_cache
from pathlib import Path

from passlib.context import CryptContext
from passlib.utils import MAX_PASSWORD_SIZE

_context = CryptContext(schemes=["argon2"], deprecated="auto")
# Verified against when the account does not exist, so both paths cost the same time.
_PLACEHOLDER = "timing-equaliser-not-a-password"
_DUMMY_HASH = _context.hash(_PLACEHOLDER)
# passlib refuses longer secrets (PasswordSizeError), so no password can be longer.
MAX_PASSWORD_LENGTH = MAX_PASSWORD_SIZE


def unusable(password: str) -> str:
    """Why passlib cannot take this password ('' if it can): too long, or lone surrogates (only
    a forged request carries them; UTF-8 cannot encode them)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH:,} characters"
    try:
        password.encode()
    except UnicodeEncodeError:
        return "Password contains characters that cannot be used"
    return ""


def hash_password(password: str) -> str:
    return _context.hash(password)


def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """(matches, new hash to store if the parameters changed). A password passlib cannot take
    never matches, after the same hashing work as any other attempt (login timing)."""
    if unusable(password):
        _context.verify(_PLACEHOLDER, stored_hash or _DUMMY_HASH)
        return False, None
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
