"""Database engine and transactions.

SQLite by default (WAL, foreign keys, busy timeout, durable commits); any SQLAlchemy URL through
`DATABASE_URL`. Writers open their transaction with `write()`: on SQLite that is `BEGIN IMMEDIATE`,
so two writers queue on the database lock up front instead of deadlocking on a lock upgrade; on
PostgreSQL the services take row locks (`FOR UPDATE`) themselves.
"""

from __future__ import annotations

import errno
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from bitchange.config import get_settings

_WRITE_OPTION = "bitchange_write"
CHECKPOINT_EVERY_SECONDS = 0.25
# A WAL this long after a background checkpoint means writers never paused long enough for it
# to restart (SQLite's own automatic checkpoint starts at the same size).
WAL_TAIL_AFTER_FRAMES = 1000


class _Checkpointer(threading.Thread):
    """Moves SQLite's WAL checkpoints off the commit path, in two stages.

    With automatic checkpoints, the commit that crosses the WAL threshold copies ~1000 pages
    back into the database file and pays for it in its latency. Connections disable them;
    this thread copies the bulk with a PASSIVE checkpoint (never blocks writers or readers).

    Under sustained writes that alone never lets the WAL restart from its beginning: new
    frames arrive while the thread copies, so the log is never fully copied when a writer
    begins, and the file grows without bound; every commit then extends it, and syncing the
    size change doubled a commit's median here (0.11 -> 0.2 ms). So when the thread finds a
    long log (and copied all of it), it
    asks the next writer of this process to copy the short tail (the frames written during
    the bulk copy, ~1 ms) just before it begins; that writer then restarts the log.
    """

    def __init__(self, path: str) -> None:
        super().__init__(name=f"sqlite-checkpoint:{path}", daemon=True)
        self.path = path
        self.stopped = threading.Event()
        self.tail_wanted = threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=1, check_same_thread=False)
        try:
            while not self.stopped.wait(CHECKPOINT_EVERY_SECONDS):
                self.copy_bulk(connection)
        finally:
            connection.close()

    def copy_bulk(self, connection: sqlite3.Connection) -> None:
        try:
            busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            return  # busy or locked: the next round catches up
        # Only a complete copy leaves a short tail; a reader pinning old frames would make the
        # writer's copy as long as this one.
        if not busy and frames >= WAL_TAIL_AFTER_FRAMES and copied == frames:
            self.tail_wanted.set()

    def copy_tail(self, dbapi_connection: sqlite3.Connection) -> None:
        """Called by a writer outside any transaction, before it begins one."""
        if self.tail_wanted.is_set():
            self.tail_wanted.clear()
            # If another process is checkpointing, the next bulk round asks again.
            with suppress(sqlite3.Error):
                dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


_checkpointers: list[_Checkpointer] = []

STORAGE_UNAVAILABLE = ("The exchange cannot save right now; nothing was changed. "
                       "Try again shortly.")


def is_storage_fault(exc: BaseException) -> bool:
    """A failure of the storage itself (disk full, read-only or unreachable database, no free
    connection), as opposed to a bug: the user is told to try again, nothing was committed."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sqlite3.OperationalError | sqlite3.InterfaceError):
        return True
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT)


def _configure_sqlite(engine: Engine, checkpointer: _Checkpointer | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event decide how transactions start (pysqlite would
        # otherwise begin lazily and defer the write lock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # see _Checkpointer
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver: this runs once per transaction on the order hot path.
        dbapi_connection = conn.connection.dbapi_connection
        if conn.get_execution_options().get(_WRITE_OPTION):
            if checkpointer is not None:
                checkpointer.copy_tail(dbapi_connection)  # type: ignore[arg-type]
            dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        else:
            dbapi_connection.execute("BEGIN")  # type: ignore[union-attr]


@lru_cache
def _engine_for(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        checkpointer = None
        if parsed.database and parsed.database != ":memory:":
            checkpointer = _Checkpointer(parsed.database)
            checkpointer.start()
            _checkpointers.append(checkpointer)
        _configure_sqlite(engine, checkpointer)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def get_engine() -> Engine:
    return _engine_for(get_settings().resolved_database_url)


@lru_cache
def _writer_for(url: str) -> Engine:
    return _engine_for(url).execution_options(**{_WRITE_OPTION: True})


def is_sqlite(engine: Engine | None = None) -> bool:
    return (engine or get_engine()).dialect.name == "sqlite"


@contextmanager
def write() -> Iterator[Connection]:
    """One write transaction: commits on success, rolls back everything on any error."""
    with _writer_for(get_settings().resolved_database_url).begin() as conn:
        yield conn


def writer_connection() -> tuple[str, Connection]:
    """A connection for a long-lived single writer (one per market): it opens its transactions
    with `conn.begin()` exactly like `write()` does, without a pool round trip per order."""
    url = get_settings().resolved_database_url
    return url, _writer_for(url).connect()


def current_url() -> str:
    return get_settings().resolved_database_url


@contextmanager
def read() -> Iterator[Connection]:
    """A read-only snapshot; never writes."""
    with get_engine().connect() as conn, conn.begin():
        yield conn


def dispose() -> None:
    """Forget pooled connections (after a fork, or when tests switch databases)."""
    if _engine_for.cache_info().currsize:
        get_engine().dispose()
    for checkpointer in _checkpointers:
        checkpointer.stopped.set()
    _checkpointers.clear()
    _writer_for.cache_clear()
    _engine_for.cache_clear()
