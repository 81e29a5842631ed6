"""The exchange's clock: timezone-aware UTC datetimes (SQLModel stores and returns them so).

Tests that exercise hold times or expiries replace `now` through `freeze`; production code
always asks this module, never `datetime.now()` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system_now


def now() -> datetime:
    return _source()


@contextmanager
def freeze(source: Callable[[], datetime]) -> Iterator[None]:
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous


def when(moment: datetime | None) -> str:
    """A moment as the exchange's screens show it: UTC, to the minute ("—" when there is none)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive UTC datetimes; make them comparable with `now()`."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
