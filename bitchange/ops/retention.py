"""Which backups to keep: the newest of each of the last N days and of the last M ISO weeks.

A backup run makes a pair of files with the same timestamp: the database backup
(`bitchange-<stamp>.sqlite.gz[.enc]` or `.pgdump.gz[.enc]`) and the archive of the private
documents (`bitchange-<stamp>.documents.tar.gz[.enc]`). Retention decides on the database
backups; a documents archive goes with its database backup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

PREFIX = "bitchange-"
_STAMP = re.compile(r"^bitchange-(\d{8}T\d{6}Z)\.")
DOCUMENTS = ".documents.tar.gz"
_DOCUMENTS = re.compile(r"^bitchange-\d{8}T\d{6}Z\.documents\.tar\.gz(\.enc)?$")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def taken_at(name: str) -> datetime | None:
    """The time encoded in a backup's file name, or None for a file that is not a backup."""
    match = _STAMP.match(name)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def is_documents(name: str) -> bool:
    """Whether `name` is a documents archive (rather than a database backup)."""
    return _DOCUMENTS.match(name) is not None


def documents_name(taken: str, encrypted: bool) -> str:
    return f"{PREFIX}{taken}{DOCUMENTS}{'.enc' if encrypted else ''}"


def documents_name_for(backup_name: str) -> str:
    """The documents archive taken in the same run as database backup `backup_name`."""
    match = _STAMP.match(backup_name)
    if not match:
        raise ValueError(f"{backup_name!r} is not a backup name")
    return documents_name(match.group(1), backup_name.endswith(".enc"))


def names_to_keep(names: Iterable[str], daily: int, weekly: int) -> set[str]:
    """Grandfather-father-son: per day and per ISO week only the newest backup counts; keep the
    newest of the `daily` most recent days and of the `weekly` most recent weeks. Names that are
    not backups are always kept (never deleted by pruning)."""
    names = list(names)
    keep = {name for name in names if taken_at(name) is None}
    dated = sorted(((moment, n) for n in names if (moment := taken_at(n)) is not None),
                   reverse=True)
    days: dict[object, str] = {}
    weeks: dict[object, str] = {}
    for moment, name in dated:
        days.setdefault(moment.date(), name)
        weeks.setdefault(moment.isocalendar()[:2], name)
    keep.update(list(days.values())[: max(daily, 0)])
    keep.update(list(weeks.values())[: max(weekly, 0)])
    return keep


def names_to_prune(names: Iterable[str], daily: int, weekly: int) -> list[str]:
    """What to delete among `names` (one location's files). The database backups are pruned
    by `names_to_keep`; each documents archive goes with the database backup of its run, and
    one without a database backup there (left by a failed run) once it is older than every
    database backup that is kept."""
    names = list(names)
    databases = [n for n in names if not is_documents(n)]
    keep = names_to_keep(databases, daily, weekly)
    doomed = {n for n in databases if n not in keep}
    kept_at = {moment for n in keep if (moment := taken_at(n)) is not None}
    doomed_at = {taken_at(n) for n in doomed}
    oldest_kept = min(kept_at, default=None)
    for name in filter(is_documents, names):
        moment = taken_at(name)
        assert moment is not None
        if moment in kept_at:
            continue
        if moment in doomed_at or (oldest_kept is not None and moment < oldest_kept):
            doomed.add(name)
    return sorted(doomed)
