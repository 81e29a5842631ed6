"""Submitting personal details and documents, and the admins' review.

Nothing here logs personal data: the audit log and emails name the submission, never its
content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bitchange.accounts import audit
from bitchange.accounts.notices import notify
from bitchange.clock import now
from bitchange.db.models import User
from bitchange.documents import storage
from bitchange.documents.tables import PrivateFile
from bitchange.kyc.levels import LEVELS, level_of, limits_for
from bitchange.kyc.tables import KycDocument, KycEvent, KycSubmission
from bitchange.mail.templates import Link, public_link
from bitchange.trading.markets import format_usdt

_submissions = KycSubmission.__table__
_documents = KycDocument.__table__
_events = KycEvent.__table__
_files = PrivateFile.__table__
_users = User.__table__

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
DOCUMENT_KINDS = {"id_front": "ID document (front)", "id_back": "ID document (back)",
                  "selfie": "Selfie holding the ID", "address_proof": "Proof of address"}
REQUIRED = {1: ("id_front", "id_back", "selfie"), 2: ("address_proof",)}
MIN_AGE = 18


class KycError(ValueError):
    """A refused verification step; the message is safe to show."""


@dataclass(frozen=True)
class Details:
    """What the user types in. Level 1 uses the identity fields, level 2 the address ones."""

    full_name: str = ""
    date_of_birth: str = ""
    country: str = ""
    document_number: str = ""
    address_line: str = ""
    city: str = ""
    postal_code: str = ""


def _text(value: str, what: str, low: int, high: int) -> str:
    cleaned = " ".join((value or "").split())
    if not low <= len(cleaned) <= high:
        raise KycError(f"{what} must be {low} to {high} characters.")
    if any(ord(c) < 32 for c in cleaned) or re.search(r"[<>{}]", cleaned):
        raise KycError(f"{what} contains characters that are not allowed.")
    return cleaned


def _birth_date(value: str) -> str:
    try:
        born = date.fromisoformat((value or "").strip())
    except ValueError:
        raise KycError("Date of birth must be a date (YYYY-MM-DD).") from None
    today = now().date()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < MIN_AGE:
        raise KycError(f"You must be at least {MIN_AGE} years old.")
    if age > 120:
        raise KycError("Check the date of birth.")
    return born.isoformat()


def _validated(level: int, details: Details) -> dict[str, str]:
    if level == 1:
        return {
            "full_name": _text(details.full_name, "Full name", 2, 100),
            "date_of_birth": _birth_date(details.date_of_birth),
            "country": _text(details.country, "Country", 2, 60),
            "document_number": _text(details.document_number, "Document number", 3, 40),
        }
    return {
        "address_line": _text(details.address_line, "Address", 5, 200),
        "city": _text(details.city, "City", 1, 80),
        "postal_code": _text(details.postal_code, "Postal code", 2, 20),
        "country": _text(details.country, "Country", 2, 60),
    }


def next_level(conn: Connection, user_id: int) -> int | None:
    level = level_of(conn, user_id)
    return level + 1 if level < 2 else None


def pending_of(conn: Connection, user_id: int) -> int | None:
    return conn.scalar(select(_submissions.c.id).where(
        _submissions.c.user_id == user_id, _submissions.c.status == PENDING))


def submit(conn: Connection, user_id: int, level: int, details: Details,
           files: dict[str, int]) -> int:
    """Create a pending submission for `level` with the user's uploaded files (ids from
    `documents.storage.store`, purpose kyc, uploaded by this user, not used before)."""
    user = conn.execute(select(_users.c.email_verified_at, _users.c.frozen_at).where(
        _users.c.id == user_id)).one()
    if user.email_verified_at is None:
        raise KycError("Confirm your email address first.")
    if user.frozen_at is not None:
        raise KycError("Your account is frozen; contact support.")
    if pending_of(conn, user_id) is not None:
        raise KycError("Your previous submission is still being reviewed.")
    wanted = next_level(conn, user_id)
    if wanted is None:
        raise KycError("Your account is already fully verified.")
    if level != wanted:
        raise KycError(f"Complete level {wanted} ({LEVELS[wanted]}) first."
                       if level > wanted else "This level is already verified.")
    fields = _validated(level, details)
    missing = [DOCUMENT_KINDS[k] for k in REQUIRED[level] if k not in files]
    if missing:
        raise KycError("Upload: " + ", ".join(missing) + ".")
    for kind in files:
        if kind not in REQUIRED[level]:
            raise KycError("Unexpected document.")
    for file_id in files.values():
        stored = storage.get(conn, file_id)
        if stored is None or stored.owner_id != user_id or stored.purpose != "kyc":
            raise KycError("Upload the document again.")
        if conn.scalar(select(_documents.c.id).where(_documents.c.file_id == file_id)):
            raise KycError("Upload the document again.")
    try:
        submission_id = conn.execute(insert(_submissions).values(
            user_id=user_id, level=level, status=PENDING, created_at=now(), **fields,
        )).inserted_primary_key[0]
    except IntegrityError:
        raise KycError("Your previous submission is still being reviewed.") from None
    conn.execute(insert(_documents), [
        {"submission_id": submission_id, "kind": kind, "file_id": file_id}
        for kind, file_id in files.items()])
    _record(conn, submission_id, user_id, "submitted")
    notify(conn, user_id, "kyc_received", "We received your verification documents", [
        f"We received your request for level {level} ({LEVELS[level]}). Our team usually "
        "reviews it within one business day; we will email you the decision."],
        link=Link("See your verification status", public_link("/verification")))
    return submission_id


# --- what the user sees ---------------------------------------------------------------------

@dataclass(frozen=True)
class Status:
    level: int
    next_level: int | None
    state: str  # not_submitted | pending | approved | rejected (of the latest submission)
    latest_level: int | None
    reason: str


def status_of(conn: Connection, user_id: int) -> Status:
    level = level_of(conn, user_id)
    latest = conn.execute(select(_submissions.c.level, _submissions.c.status,
                                 _submissions.c.reason)
                          .where(_submissions.c.user_id == user_id)
                          .order_by(_submissions.c.id.desc()).limit(1)).first()
    if latest is None:
        return Status(level, 1, "not_submitted", None, "")
    return Status(level, level + 1 if level < 2 else None, latest.status, latest.level,
                  latest.reason if latest.status == REJECTED else "")


# --- the admins' review ----------------------------------------------------------------------

@dataclass(frozen=True)
class QueueItem:
    id: int
    user_id: int
    email: str
    level: int
    created_at: datetime


def pending_queue(conn: Connection, limit: int = 100) -> list[QueueItem]:
    rows = conn.execute(
        select(_submissions.c.id, _submissions.c.user_id, _users.c.email, _submissions.c.level,
               _submissions.c.created_at)
        .join(_users, _users.c.id == _submissions.c.user_id)
        .where(_submissions.c.status == PENDING)
        .order_by(_submissions.c.id).limit(limit))
    return [QueueItem(*r) for r in rows]


@dataclass(frozen=True)
class SubmissionView:
    id: int
    user_id: int
    email: str
    level: int
    status: str
    details: dict[str, str]
    documents: list[tuple[str, storage.StoredFile]]  # (kind label, file)
    created_at: datetime
    reason: str


def submission(conn: Connection, submission_id: int) -> SubmissionView | None:
    row = conn.execute(select(_submissions, _users.c.email)
                       .join(_users, _users.c.id == _submissions.c.user_id)
                       .where(_submissions.c.id == submission_id)).first()
    if row is None:
        return None
    labels = {"full_name": "Full name", "date_of_birth": "Date of birth", "country": "Country",
              "document_number": "Document number", "address_line": "Address",
              "city": "City", "postal_code": "Postal code"}
    details = {label: getattr(row, key) for key, label in labels.items() if getattr(row, key)}
    documents = []
    for kind, file_id in conn.execute(select(_documents.c.kind, _documents.c.file_id).where(
            _documents.c.submission_id == submission_id).order_by(_documents.c.id)):
        stored = storage.get(conn, file_id)
        if stored is not None:
            documents.append((DOCUMENT_KINDS.get(kind, kind), stored))
    return SubmissionView(row.id, row.user_id, row.email, row.level, row.status, details,
                          documents, row.created_at, row.reason)


def _decide(conn: Connection, admin_id: int, submission_id: int, status: str,
            reason: str) -> int:
    """Flip a pending submission (conditional UPDATE: two admins cannot both decide it).
    An admin never decides their own submission: another admin must."""
    owner = conn.scalar(select(_submissions.c.user_id).where(_submissions.c.id == submission_id))
    if owner is None:
        raise KycError("Unknown submission.")
    if owner == admin_id:
        raise KycError("You cannot review your own verification; another admin must.")
    changed = conn.execute(update(_submissions).where(
        _submissions.c.id == submission_id, _submissions.c.status == PENDING,
    ).values(status=status, reason=reason, reviewed_by=admin_id, reviewed_at=now())).rowcount
    if changed != 1:
        raise KycError("This submission is no longer pending.")
    _record(conn, submission_id, owner, status)
    return owner


def _record(conn: Connection, submission_id: int, user_id: int, action: str) -> None:
    conn.execute(insert(_events).values(submission_id=submission_id, user_id=user_id,
                                        action=action, created_at=now()))


def newest_event(conn: Connection) -> int:
    """The id of the latest submission step: the mark the live watcher reads each round."""
    return conn.scalar(select(func.max(_events.c.id))) or 0


def owners_changed_since(conn: Connection, after_id: int, users: set[int]) -> set[int]:
    """Which of `users` had a submission step after `after_id`."""
    return set(conn.scalars(select(_events.c.user_id).distinct().where(
        _events.c.id > after_id, _events.c.user_id.in_(users))))


def approve(conn: Connection, admin_id: int, submission_id: int, *, ip: str) -> None:
    user_id = _decide(conn, admin_id, submission_id, APPROVED, "")
    level = level_of(conn, user_id)
    limits = limits_for(level)
    audit.record(conn, admin_id, "kyc_approve", f"user {user_id}", ip=ip,
                 detail=f"submission {submission_id}; level now {level}")
    notify(conn, user_id, "kyc_approved", "Your verification is approved", [
        f"Your account is now at level {level} ({LEVELS[level]}).",
        f"Your limits per 24 hours: withdrawals up to "
        f"{format_usdt(limits.withdrawal_usdt)} USDT, internal transfers up to "
        f"{format_usdt(limits.transfer_usdt)} USDT."],
        link=Link("See your verification", public_link("/verification")))


def reject(conn: Connection, admin_id: int, submission_id: int, reason: str, *,
           ip: str) -> None:
    reason = " ".join((reason or "").split())
    if not 5 <= len(reason) <= 500:
        raise KycError("Give the user a reason (5 to 500 characters).")
    user_id = _decide(conn, admin_id, submission_id, REJECTED, reason)
    # The reason may quote personal details: it goes to the user, not into the audit log.
    audit.record(conn, admin_id, "kyc_reject", f"user {user_id}", ip=ip,
                 detail=f"submission {submission_id}")
    notify(conn, user_id, "kyc_rejected", "Your verification needs another look", [
        "We could not approve your verification request.",
        f"Reason: {reason}",
        "You can correct it and submit again from your verification page."],
        link=Link("Submit again", public_link("/verification")))
