"""Which backups to keep: the newest of each of the last N days and of the last M ISO weeks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

PREFIX = "bitchange-"
_STAMP = re.compile(r"^bitchange-(\d{8}T\d{6}Z)\.")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def taken_at(name: str) -> datetime | None:
    """The time encoded in a backup's file name, or None for a file that is not a backup."""
    match = _STAMP.match(name)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


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
    names = list(names)
    keep = names_to_keep(names, daily, weekly)
    return sorted(n for n in names if n not in keep)
