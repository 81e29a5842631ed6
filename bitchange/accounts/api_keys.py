"""API keys for programs (the Binance-compatible API in bitchange.api).

Two kinds, as Binance has: HMAC-SHA256 (we generate the secret, show it once and keep it sealed
with `accounts.sealing`, bound to the key's row) and Ed25519 (the owner pastes a public key; we
never see the private key). Scopes: read, trade, withdraw (withdraw only with an IP allowlist).
Creating a key, adding a scope or changing the allowlist needs a fresh 2FA code and sends the
owner an email; every change is in the audit log. Freezing, "this wasn't me", a password reset
and support's actions disable every key of the account (`disable_all`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import string
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, bindparam, insert, select, update

from bitchange.accounts import audit, security_lock, totp
from bitchange.accounts.notices import notify
from bitchange.accounts.sealing import seal, unseal
from bitchange.accounts.tables import ApiKey
from bitchange.clock import now
from bitchange.db.models import User
from bitchange.db.prepared import Prepared

_keys = ApiKey.__table__
_users = User.__table__
SCOPES = ("read", "trade", "withdraw")
KINDS = ("hmac", "ed25519")
KEY_LENGTH = 64  # Binance's keys and secrets: 64 letters and digits
MAX_KEYS = 30
MAX_ALLOWLIST = 30
_ALPHABET = string.ascii_letters + string.digits
# Writing the last use on every request would make each read a write: once a minute is enough.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class ApiKeyError(ValueError):
    """A refused key change; the message is shown to the owner. Nothing was written."""


@dataclass(frozen=True)
class NewKey:
    key_id: int
    api_key: str
    secret: str | None  # the HMAC secret, shown once; None for Ed25519


@dataclass(frozen=True)
class ApiKeyView:
    id: int
    label: str
    kind: str
    api_key: str
    scopes: str  # "read, trade"
    allowlist: str  # "any IP" or the entries
    created: str
    expires: str
    last_used: str  # "never" or "2026-12-01 22:00 UTC from 203.0.113.7"
    status: str  # active | expired | revoked


@dataclass(frozen=True)
class Caller:
    """An authenticated key, for one request."""

    key_id: int
    user_id: int
    kind: str
    scopes: frozenset[str]
    verifier: str  # the HMAC secret or the Ed25519 public key (base64)
    last_used_at: datetime | None
    last_used_ip: str | None

    def signature_valid(self, payload: str, signature: str) -> bool:
        """Binance's rules: HMAC-SHA256 hex of the payload (any case), or the base64
        Ed25519 signature of it."""
        if self.kind == "hmac":
            expected = hmac.new(self.verifier.encode(), payload.encode(), hashlib.sha256)
            return hmac.compare_digest(expected.hexdigest(), signature.lower())
        try:
            raw = base64.b64decode(signature, validate=True)
            Ed25519PublicKey.from_public_bytes(base64.b64decode(self.verifier)).verify(
                raw, payload.encode())
        except (ValueError, InvalidSignature):
            return False
        return True


class KeyRejected(Exception):
    """The API refuses this key: `bad_format` (Binance -2014) or not usable (-2015)."""

    def __init__(self, bad_format: bool = False) -> None:
        super().__init__("API-key format invalid." if bad_format else "rejected")
        self.bad_format = bad_format


def _fmt(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _random(length: int = KEY_LENGTH) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def is_key_format(api_key: str) -> bool:
    return len(api_key) == KEY_LENGTH and api_key.isascii() and api_key.isalnum()


# --- parsing what the owner typed ------------------------------------------------------------

def parse_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    chosen = {s.strip().lower() for s in scopes if s.strip()}
    unknown = chosen - set(SCOPES)
    if unknown:
        raise ApiKeyError(f"Unknown scope: {', '.join(sorted(unknown))}")
    if not chosen:
        raise ApiKeyError("Choose at least one scope")
    return tuple(s for s in SCOPES if s in chosen)


def parse_allowlist(text: str) -> tuple[str, ...]:
    """Single addresses and CIDR ranges, IPv4 and IPv6, separated by commas, spaces or
    lines; each stored in its normal form ("10.0.0.7/24" is refused: host bits set)."""
    entries = [e for e in text.replace(",", " ").split() if e]
    if len(entries) > MAX_ALLOWLIST:
        raise ApiKeyError(f"At most {MAX_ALLOWLIST} addresses or ranges")
    parsed: list[str] = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError:
            raise ApiKeyError(f"Not an IP address or range: {entry[:60]}") from None
        normal = (str(network.network_address)
                  if network.num_addresses == 1 and "/" not in entry else str(network))
        if normal not in parsed:
            parsed.append(normal)
    return tuple(parsed)


def ip_allowed(allowlist: str, ip: str) -> bool:
    if not allowlist:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(entry) for entry in allowlist.split(","))


def parse_public_key(pem: str) -> str:
    """An Ed25519 public key in PEM (as Binance asks for) -> its 32 raw bytes, base64."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError):
        raise ApiKeyError("Paste an Ed25519 public key in PEM format "
                          "(-----BEGIN PUBLIC KEY-----)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ApiKeyError("That public key is not an Ed25519 key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


# --- the owner's changes ---------------------------------------------------------------------

def _check_owner(conn: Connection, user_id: int, code: str) -> None:
    """Only verified, unfrozen accounts with 2FA, and a fresh code from it."""
    user = conn.execute(select(_users.c.email_verified_at, _users.c.frozen_at,
                               _users.c.totp_enabled_at).where(_users.c.id == user_id)).first()
    if user is None:
        raise ApiKeyError("Sign in again.")
    if user.frozen_at is not None:
        raise ApiKeyError("This account is frozen: API keys cannot be created or changed.")
    if user.email_verified_at is None:
        raise ApiKeyError("Verify your email address before creating API keys.")
    if user.totp_enabled_at is None:
        raise ApiKeyError("Turn on two-factor authentication before creating API keys.")
    if not totp.verify(conn, user_id, (code or "").strip()):
        raise ApiKeyError("That code is not valid. Use a new code from your app.")


def _check_not_locked(conn: Connection, user_id: int) -> None:
    row = conn.execute(select(_users.c.password_changed_at, _users.c.totp_enabled_at,
                              _users.c.email_changed_at).where(_users.c.id == user_id)).one()
    locked = security_lock.locked_until(row, ("password", "email"))
    if locked:
        raise ApiKeyError(f"API keys cannot be created until {_fmt(locked[0])}, after the "
                          f"recent {locked[1]} change on your account, for your protection.")


def _check_withdraw(scopes: tuple[str, ...], allowlist: tuple[str, ...]) -> None:
    if "withdraw" in scopes and not allowlist:
        raise ApiKeyError("A key with the withdraw scope needs an IP allowlist.")


def _record(conn: Connection, actor_id: int, action: str, user_id: int, key_id: int, *,
            ip: str, detail: str = "") -> None:
    audit.record(conn, actor_id, action, f"user:{user_id} api_key:{key_id}", ip=ip,
                 detail=detail)


def _tell(conn: Connection, user_id: int, subject: str, what: str, ip: str) -> None:
    notify(conn, user_id, "api_key", subject, [
        what,
        f"Time: {_fmt(now())}",
        f"IP address: {ip or 'unknown'}",
        "If you did not do this, revoke your API keys in the security centre, change your "
        "password and contact support.",
    ])


def create_key(conn: Connection, user_id: int, *, label: str, kind: str,
               scopes: list[str] | tuple[str, ...], allowlist: str = "",
               expires_at: datetime | None = None, public_key: str = "", code: str,
               ip: str = "") -> NewKey:
    label = (label or "").strip()
    if not 1 <= len(label) <= 64:
        raise ApiKeyError("Give the key a label of 1 to 64 characters.")
    if kind not in KINDS:
        raise ApiKeyError("Choose an HMAC or an Ed25519 key.")
    chosen = parse_scopes(scopes)
    ips = parse_allowlist(allowlist)
    _check_withdraw(chosen, ips)
    if expires_at is not None and expires_at <= now():
        raise ApiKeyError("The expiry must be in the future.")
    verifier = parse_public_key(public_key) if kind == "ed25519" else None
    active = conn.scalar(select(_keys.c.id).where(
        _keys.c.user_id == user_id, _keys.c.revoked_at.is_(None)).offset(MAX_KEYS - 1).limit(1))
    if active is not None:
        raise ApiKeyError(f"At most {MAX_KEYS} API keys; revoke one first.")
    _check_owner(conn, user_id, code)
    _check_not_locked(conn, user_id)
    api_key = _random()
    key_id = conn.execute(insert(_keys).values(
        user_id=user_id, label=label, kind=kind, api_key=api_key, public_key=verifier,
        scopes=",".join(chosen), ip_allowlist=",".join(ips), created_at=now(),
        expires_at=expires_at)).inserted_primary_key[0]
    secret = None
    if kind == "hmac":
        secret = _random()
        conn.execute(update(_keys).where(_keys.c.id == key_id).values(
            sealed_secret=seal(secret, purpose="api_key", owner=key_id)))
    detail = f"{kind} '{label}' scopes {','.join(chosen)}; allowlist {','.join(ips) or 'any'}"
    _record(conn, user_id, "api_key_create", user_id, key_id, ip=ip, detail=detail)
    _tell(conn, user_id, "A new API key was created",
          f"An API key '{label}' ({', '.join(chosen)}) was created on your account.", ip)
    return NewKey(key_id, api_key, secret)


def _own_active_key(conn: Connection, user_id: int, key_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(select(_keys).where(_keys.c.id == key_id, _keys.c.user_id == user_id,
                                           _keys.c.revoked_at.is_(None))).first()
    if row is None:
        raise ApiKeyError("No such API key.")
    return row


def update_key(conn: Connection, user_id: int, key_id: int, *,
               scopes: list[str] | tuple[str, ...], allowlist: str, code: str = "",
               ip: str = "") -> None:
    """Change a key's scopes and allowlist. Adding a scope or changing the allowlist needs a
    fresh 2FA code; only removing scopes does not."""
    row = _own_active_key(conn, user_id, key_id)
    chosen = parse_scopes(scopes)
    ips = parse_allowlist(allowlist)
    _check_withdraw(chosen, ips)
    added = set(chosen) - set(row.scopes.split(","))
    allowlist_changed = ",".join(ips) != row.ip_allowlist
    if not added and not allowlist_changed and ",".join(chosen) == row.scopes:
        return
    if added or allowlist_changed:
        _check_owner(conn, user_id, code)
    conn.execute(update(_keys).where(_keys.c.id == key_id).values(
        scopes=",".join(chosen), ip_allowlist=",".join(ips)))
    _record(conn, user_id, "api_key_update", user_id, key_id, ip=ip,
            detail=f"scopes {','.join(chosen)}; allowlist {','.join(ips) or 'any'}")
    _tell(conn, user_id, "An API key was changed",
          f"The API key '{row.label}' now has the scopes {', '.join(chosen)} and "
          f"{'the allowlist ' + ', '.join(ips) if ips else 'no IP allowlist'}.", ip)


def _revoke(conn: Connection, user_id: int, reason: str, key_id: int | None = None) -> int:
    query = update(_keys).where(_keys.c.user_id == user_id, _keys.c.revoked_at.is_(None))
    if key_id is not None:
        query = query.where(_keys.c.id == key_id)
    return conn.execute(query.values(revoked_at=now(), revoked_reason=reason[:100])).rowcount


def revoke(conn: Connection, user_id: int, key_id: int, *, ip: str = "") -> None:
    row = _own_active_key(conn, user_id, key_id)
    _revoke(conn, user_id, "revoked by the owner", key_id)
    _record(conn, user_id, "api_key_revoke", user_id, key_id, ip=ip)
    _tell(conn, user_id, "An API key was revoked",
          f"The API key '{row.label}' was revoked and no longer works.", ip)


def revoke_all(conn: Connection, user_id: int, *, ip: str = "") -> int:
    count = _revoke(conn, user_id, "revoked by the owner")
    if count:
        _record(conn, user_id, "api_key_revoke_all", user_id, 0, ip=ip, detail=f"{count} keys")
        _tell(conn, user_id, "Your API keys were revoked",
              f"All {count} API keys of your account were revoked.", ip)
    return count


def disable_all(conn: Connection, user_id: int, reason: str, *, actor_id: int | None = None,
                ip: str = "") -> int:
    """In the caller's transaction (a freeze, "this wasn't me", a password reset, support):
    every key of the account stops working at once."""
    count = _revoke(conn, user_id, reason)
    if count:
        audit.record(conn, actor_id if actor_id is not None else user_id, "api_key_disable",
                     f"user:{user_id}", ip=ip, detail=f"{count} keys: {reason}")
    return count


def admin_revoke(conn: Connection, admin_id: int, user_id: int, key_id: int, *,
                 ip: str) -> None:
    row = _own_active_key(conn, user_id, key_id)
    _revoke(conn, user_id, "revoked by support", key_id)
    _record(conn, admin_id, "api_key_admin_revoke", user_id, key_id, ip=ip)
    _tell(conn, user_id, "An API key was revoked by support",
          f"Support revoked the API key '{row.label}'.", ip)


def seed_hmac_key(conn: Connection, user_id: int, *, label: str, api_key: str, secret: str,
                  scopes: tuple[str, ...] = ("read", "trade")) -> None:
    """Install a known HMAC key once (demo data only, bitchange.demo; no 2FA, no email)."""
    if conn.scalar(select(_keys.c.id).where(_keys.c.api_key == api_key)) is not None:
        return
    key_id = conn.execute(insert(_keys).values(
        user_id=user_id, label=label, kind="hmac", api_key=api_key, scopes=",".join(scopes),
        ip_allowlist="", created_at=now())).inserted_primary_key[0]
    conn.execute(update(_keys).where(_keys.c.id == key_id).values(
        sealed_secret=seal(secret, purpose="api_key", owner=key_id)))


# --- views -----------------------------------------------------------------------------------

def _status(row, moment: datetime) -> str:  # type: ignore[no-untyped-def]
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= moment:
        return "expired"
    return "active"


def list_keys(conn: Connection, user_id: int) -> list[ApiKeyView]:
    """Every key of the user, newest first; never a secret."""
    moment = now()
    rows = conn.execute(select(_keys).where(_keys.c.user_id == user_id)
                        .order_by(_keys.c.id.desc()))
    return [ApiKeyView(
        r.id, r.label, r.kind, r.api_key, ", ".join(r.scopes.split(",")),
        ", ".join(r.ip_allowlist.split(",")) if r.ip_allowlist else "any IP",
        _fmt(r.created_at), _fmt(r.expires_at) or "never",
        f"{_fmt(r.last_used_at)} from {r.last_used_ip}" if r.last_used_at else "never",
        _status(r, moment)) for r in rows]


def key_rows(conn: Connection, user_id: int) -> list[dict[str, str]]:
    """The key list as the pages show it (every value a string)."""
    return [{name: str(value) for name, value in asdict(view).items()}
            for view in list_keys(conn, user_id)]


def expiry_after(days: str) -> datetime | None:
    """The form's expiry choice: '' (never) or a number of days."""
    if not days:
        return None
    if not days.isdigit() or not 1 <= int(days) <= 3650:
        raise ApiKeyError("Choose an expiry between 1 and 3650 days, or none.")
    return now() + timedelta(days=int(days))


# --- the API's side --------------------------------------------------------------------------

_BY_KEY = Prepared(
    select(_keys.c.id, _keys.c.user_id, _keys.c.kind, _keys.c.scopes, _keys.c.ip_allowlist,
           _keys.c.sealed_secret, _keys.c.public_key, _keys.c.expires_at, _keys.c.revoked_at,
           _keys.c.last_used_at, _keys.c.last_used_ip, _users.c.frozen_at,
           _users.c.closed_at, _users.c.email_verified_at)
    .join(_users, _users.c.id == _keys.c.user_id).where(_keys.c.api_key == bindparam("key")))


@lru_cache(maxsize=4096)
def _verifier(key_id: int, kind: str, sealed: str | None, public_key: str | None) -> str:
    """The key's HMAC secret (unsealed once per process and sealed value) or public key."""
    return unseal(sealed, purpose="api_key", owner=key_id) if kind == "hmac" else public_key  # type: ignore[arg-type, return-value]


# The key as this process last authenticated it, by key: its owner, kind and verifier never
# change, so a request's signature can be checked against it before the row is read again, in
# the transaction that acts on the request (`still_allowed`). Bounded as `_verifier` is.
_remembered: dict[str, Caller] = {}
_REMEMBER_AT_MOST = 4096


def authenticate(conn: Connection, api_key: str, ip: str) -> Caller:
    """The key of a request, if it may be used from `ip` now; raises `KeyRejected`. The key's
    row and its owner are read on every request (a revoked key, a frozen owner or a changed
    allowlist count at once, in every process); only the unsealing is remembered, and the
    key as read (`remembered`)."""
    if not is_key_format(api_key):
        raise KeyRejected(bad_format=True)
    row = _BY_KEY.typed_first(conn, {"key": api_key})
    if row is None:
        _remembered.pop(api_key, None)
        raise KeyRejected
    (key_id, user_id, kind, scopes, allowlist, sealed, public_key, expires_at, revoked_at,
     last_used_at, last_used_ip, frozen_at, closed_at, verified_at) = row
    if revoked_at is not None or (expires_at is not None and expires_at <= now()) \
            or frozen_at is not None or closed_at is not None or verified_at is None \
            or not ip_allowed(allowlist, ip) \
            or ("withdraw" in scopes.split(",") and not allowlist):  # never created so
        _remembered.pop(api_key, None)
        raise KeyRejected
    caller = Caller(key_id, user_id, kind, frozenset(scopes.split(",")),
                    _verifier(key_id, kind, sealed, public_key), last_used_at, last_used_ip)
    if len(_remembered) >= _REMEMBER_AT_MOST:
        _remembered.clear()
    _remembered[api_key] = caller
    return caller


def remembered(api_key: str) -> Caller | None:
    """The key as `authenticate` last accepted it in this process (its scopes and last use
    as they were then), or None. Not an authentication: `still_allowed` must follow, in
    the transaction that acts on the request."""
    return _remembered.get(api_key)


def still_allowed(conn: Connection, api_key: str, caller: Caller, ip: str, scope: str) -> bool:
    """Whether the key a request was checked against (`remembered`) is still that key and may
    act with `scope` from `ip`, read now on `conn`."""
    try:
        fresh = authenticate(conn, api_key, ip)
    except KeyRejected:
        return False
    return scope in fresh.scopes and (fresh.key_id, fresh.user_id, fresh.kind, fresh.verifier) \
        == (caller.key_id, caller.user_id, caller.kind, caller.verifier)


def use_worth_noting(caller: Caller, ip: str) -> bool:
    """Whether this use should be recorded: another IP, or a minute since the last record."""
    return caller.last_used_ip != ip or caller.last_used_at is None \
        or now() - caller.last_used_at >= LAST_USED_GRANULARITY


def note_use(conn: Connection, api_key: str, caller: Caller, ip: str) -> None:
    """Record the key's last use (time and IP), and remember it (a failed commit only
    delays the next record by `LAST_USED_GRANULARITY`)."""
    moment = now()
    conn.execute(update(_keys).where(_keys.c.id == caller.key_id).values(
        last_used_at=moment, last_used_ip=ip[:64]))
    if api_key in _remembered:
        _remembered[api_key] = replace(caller, last_used_at=moment, last_used_ip=ip[:64])
