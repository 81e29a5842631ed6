"""What the admin verification screen shows: the queue and one submission with its details
and documents (their URLs go through the authorised /documents route)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange.clock import when
from bitchange.documents import storage
from bitchange.kyc import LEVELS
from bitchange.kyc import service as kyc

Row = dict[str, str]


def _level(level: int) -> str:
    return f"{level} · {LEVELS[level]}"


def queue_rows(conn: Connection) -> list[Row]:
    return [{"id": str(q.id), "email": q.email, "level": _level(q.level),
             "created": when(q.created_at)} for q in kyc.pending_queue(conn)]


@dataclass(frozen=True)
class SubmissionPage:
    selected: Row
    details: list[list[str]]  # [field, value]
    documents: list[Row]


def submission_page(conn: Connection, submission_id: int) -> SubmissionPage | None:
    view = kyc.submission(conn, submission_id)
    if view is None:
        return None
    return SubmissionPage(
        selected={"id": str(view.id), "email": view.email, "level": _level(view.level),
                  "status": view.status, "created": when(view.created_at)},
        details=[[k, v] for k, v in view.details.items()],
        documents=[{"label": label, "url": storage.url(f), "image": "yes" if f.is_image else ""}
                   for label, f in view.documents])
