"""Passkeys (WebAuthn, with py_webauthn): register, then assert as a second factor or, where the
user turned it on, to sign in without a password.

Only the credential's public key and its signature counter are stored. Each ceremony uses a
challenge kept here (single use, five minutes): the browser's answer names its challenge in
its clientDataJSON, which is how the answer finds its row, so a state holds nothing secret.
An assertion whose counter does not move forward (a cloned authenticator, or a replay) is
refused; the counter is advanced with a compare-and-set, so two answers with one counter
cannot both pass. The relying party is PUBLIC_URL (its host is the RP ID, itself the origin).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from secrets import token_bytes
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import Connection, delete, func, insert, select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
    WebAuthnException,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from bitchange.accounts.tables import Passkey, WebAuthnChallenge
from bitchange.accounts.users import AccountError
from bitchange.clock import now
from bitchange.config import get_settings
from bitchange.db.models import User

log = logging.getLogger(__name__)
_keys = Passkey.__table__
_challenges = WebAuthnChallenge.__table__
_users = User.__table__
RP_NAME = "BitChange"
CHALLENGE_LIFETIME = timedelta(minutes=5)
TIMEOUT_MS = 120_000
NOT_ACCEPTED = "That passkey was not accepted. Try again, or use a code from your app."


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host, e.g. "exchange.example"
    origin: str  # e.g. "https://exchange.example"


def relying_party() -> RelyingParty:
    url = urlparse(get_settings().public_url)
    return RelyingParty(url.hostname or "localhost", f"{url.scheme}://{url.netloc}")


@dataclass(frozen=True)
class PasskeyInfo:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


def is_assertion(code: str) -> bool:
    """Whether a "2FA code" field holds a passkey's answer (JSON) rather than typed digits."""
    return (code or "").lstrip().startswith("{")


def count(conn: Connection, user_id: int) -> int:
    return conn.scalar(select(func.count()).select_from(_keys).where(
        _keys.c.user_id == user_id)) or 0


def list_passkeys(conn: Connection, user_id: int) -> list[PasskeyInfo]:
    rows = conn.execute(select(_keys.c.id, _keys.c.name, _keys.c.created_at,
                               _keys.c.last_used_at).where(
        _keys.c.user_id == user_id).order_by(_keys.c.id))
    return [PasskeyInfo(r.id, r.name, r.created_at, r.last_used_at) for r in rows]


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not 1 <= len(cleaned) <= 64:
        raise AccountError("Give the passkey a name of 1 to 64 characters.")
    return cleaned


def _issue(conn: Connection, user_id: int | None, purpose: str) -> bytes:
    challenge = token_bytes(32)
    conn.execute(insert(_challenges).values(
        user_id=user_id, purpose=purpose, challenge=bytes_to_base64url(challenge),
        created_at=now(), expires_at=now() + CHALLENGE_LIFETIME))
    return challenge


def _descriptors(conn: Connection, user_id: int) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in conn.scalars(
        select(_keys.c.credential_id).where(_keys.c.user_id == user_id))]


def registration_options(conn: Connection, user_id: int, email: str) -> str:
    """The options for navigator.credentials.create() (JSON). The caller has just checked the
    password and the 2FA code: the challenge issued here is what lets `register` add a key."""
    if count(conn, user_id) >= get_settings().passkeys_per_user:
        raise AccountError(f"You can have at most {get_settings().passkeys_per_user} "
                           "passkeys. Remove one first.")
    rp = relying_party()
    options = generate_registration_options(
        rp_id=rp.id, rp_name=RP_NAME, user_name=email, user_id=str(user_id).encode(),
        challenge=_issue(conn, user_id, "register"), timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(conn, user_id))
    return options_to_json(options)


def assertion_options(conn: Connection, user_id: int | None) -> str:
    """The options for navigator.credentials.get() (JSON): for a user's second factor (their
    passkeys listed), or, with no user, for a passwordless sign-in (a discoverable passkey,
    with user verification)."""
    rp = relying_party()
    if user_id is None:
        options = generate_authentication_options(
            rp_id=rp.id, challenge=_issue(conn, None, "signin"), timeout=TIMEOUT_MS,
            user_verification=UserVerificationRequirement.REQUIRED)
    else:
        options = generate_authentication_options(
            rp_id=rp.id, challenge=_issue(conn, user_id, "assert"), timeout=TIMEOUT_MS,
            allow_credentials=_descriptors(conn, user_id),
            user_verification=UserVerificationRequirement.PREFERRED)
    return options_to_json(options)


def _parse(answer: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(answer)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _take_challenge(conn: Connection, answer: dict[str, Any], purpose: str,
                    user_id: int | None) -> bytes | None:
    """The challenge the answer was made for, used up now; None if unknown, used, expired, of
    another ceremony or of another user."""
    response = answer.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("clientDataJSON"), str):
        return None
    try:
        client_data = parse_client_data_json(base64url_to_bytes(response["clientDataJSON"]))
    except (ValueError, WebAuthnException):
        return None
    owner = (_challenges.c.user_id.is_(None) if user_id is None
             else _challenges.c.user_id == user_id)
    taken = conn.execute(update(_challenges).where(
        _challenges.c.challenge == bytes_to_base64url(client_data.challenge),
        _challenges.c.purpose == purpose, owner, _challenges.c.used_at.is_(None),
        _challenges.c.expires_at > now()).values(used_at=now()))
    return client_data.challenge if taken.rowcount == 1 else None


def register(conn: Connection, user_id: int, answer_json: str, name: str) -> int:
    """Store the public key of a new passkey from the browser's answer; returns its id."""
    label = _clean_name(name)
    answer = _parse(answer_json)
    if answer is None or "error" in answer:
        raise AccountError(str((answer or {}).get("error") or "The passkey was not created."))
    challenge = _take_challenge(conn, answer, "register", user_id)
    if challenge is None:
        raise AccountError("This passkey request expired. Start again.")
    rp = relying_party()
    try:
        verified = verify_registration_response(
            credential=answer, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin)
    except (InvalidRegistrationResponse, InvalidJSONStructure) as exc:
        log.warning("passkey registration of user %s refused: %s", user_id, exc)
        raise AccountError("The passkey could not be verified. Try again.") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if conn.scalar(select(_keys.c.id).where(_keys.c.credential_id == credential_id)):
        raise AccountError("This passkey is already registered.")
    return conn.execute(insert(_keys).values(
        user_id=user_id, credential_id=credential_id,
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count, name=label, created_at=now()).returning(
        _keys.c.id)).scalar_one()


def verify(conn: Connection, answer_json: str, *, user_id: int | None) -> int | None:
    """Check a passkey's answer to our challenge: the owner's user id, or None.

    With `user_id`, a second factor of that user (challenge `assert`); without, a passwordless
    sign-in (challenge `signin`, user verification required; the caller checks the owner
    allows it). A counter that does not move forward is refused (a cloned authenticator)."""
    answer = _parse(answer_json)
    if answer is None or not isinstance(answer.get("id"), str):
        return None
    challenge = _take_challenge(conn, answer, "signin" if user_id is None else "assert",
                                user_id)
    if challenge is None:
        return None
    key = conn.execute(select(_keys).where(_keys.c.credential_id == answer["id"])).first()
    if key is None or (user_id is not None and key.user_id != user_id):
        return None
    rp = relying_party()
    try:
        verified = verify_authentication_response(
            credential=answer, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=base64url_to_bytes(key.public_key),
            credential_current_sign_count=key.sign_count,
            require_user_verification=user_id is None)
    except (InvalidAuthenticationResponse, InvalidJSONStructure) as exc:
        log.warning("passkey %s of user %s refused: %s", key.id, key.user_id, exc)
        return None
    moved = conn.execute(update(_keys).where(
        _keys.c.id == key.id, _keys.c.sign_count == key.sign_count).values(
        sign_count=verified.new_sign_count, last_used_at=now()))
    return key.user_id if moved.rowcount == 1 else None


def rename(conn: Connection, user_id: int, passkey_id: int, name: str) -> None:
    done = conn.execute(update(_keys).where(
        _keys.c.id == passkey_id, _keys.c.user_id == user_id).values(name=_clean_name(name)))
    if done.rowcount != 1:
        raise AccountError("No such passkey.")


def remove(conn: Connection, user_id: int, passkey_id: int) -> str:
    """Delete one of the user's passkeys; returns its name. Removing the last one turns
    passwordless sign-in off."""
    name = conn.scalar(select(_keys.c.name).where(_keys.c.id == passkey_id,
                                                  _keys.c.user_id == user_id))
    if name is None:
        raise AccountError("No such passkey.")
    conn.execute(delete(_keys).where(_keys.c.id == passkey_id))
    if count(conn, user_id) == 0:
        conn.execute(update(_users).where(_users.c.id == user_id).values(passwordless=False))
    return name


def set_passwordless(conn: Connection, user_id: int, enabled: bool) -> None:
    if enabled and count(conn, user_id) == 0:
        raise AccountError("Add a passkey first.")
    conn.execute(update(_users).where(_users.c.id == user_id).values(passwordless=enabled))

