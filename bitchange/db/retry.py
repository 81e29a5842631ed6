"""Repeat a whole transaction that PostgreSQL aborted to break a deadlock or a serialization
conflict. The money paths take their row locks in one order, so this is the safety net, not the
cure: bounded attempts, with random (jittered) waits so two colliding writers do not collide
again. Only for work that is safe to run again from the start: a transaction that rolled back
left nothing behind, so the caller must not have acted on it outside the database.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from bitchange import db

log = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 5
# deadlock_detected, serialization_failure (psycopg 2 and 3 name the code differently)
CONFLICT_STATES = frozenset({"40P01", "40001"})


def is_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure, raised through SQLAlchemy or straight from the
    driver (the prepared hot-path statements run on the DB-API cursor)."""
    error = getattr(exc, "orig", None) or exc
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return state in CONFLICT_STATES


def repeating(work: Callable[[], T], *, attempts: int = ATTEMPTS) -> T:
    """`work()`, run again after a conflict; `work` must open (and so roll back) its own
    transaction. The last conflict is raised as it is. The first attempt is a plain call:
    tenacity's bookkeeping costs about as much as a placement's SQL, and conflicts are rare."""
    try:
        return work()
    except Exception as exc:
        if attempts <= 1 or not is_conflict(exc):
            raise
        log.info("%s: conflict, trying again: %s", getattr(work, "__name__", "work"), exc)
    time.sleep(random.uniform(0, 0.005))  # the jitter tenacity waits between the others
    retrying = Retrying(retry=retry_if_exception(is_conflict),
                        stop=stop_after_attempt(attempts - 1),
                        wait=wait_random_exponential(multiplier=0.005, max=0.2),
                        before_sleep=before_sleep_log(log, logging.INFO), reraise=True)
    return retrying(work)


def write(work: Callable[[Connection], T], *, attempts: int = ATTEMPTS) -> T:
    """`work(conn)` in a fresh `db.write()` transaction, repeated after a conflict."""
    def once() -> T:
        with db.write() as conn:
            return work(conn)

    return repeating(once, attempts=attempts)
