"""Database engine and transactions.

SQLite by default (WAL, foreign keys, busy timeout, durable commits); any SQLAlchemy URL through
`DATABASE_URL`. Writers open their transaction with `write()`: on SQLite that is `BEGIN IMMEDIATE`,
so two writers queue on the database lock up front instead of deadlocking on a lock upgrade; on
PostgreSQL the services take row locks (`FOR UPDATE`) themselves.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from bitchange.config import get_settings

_WRITE_OPTION = "bitchange_write"
CHECKPOINT_EVERY_SECONDS = 0.25


class _Checkpointer(threading.Thread):
    """Moves SQLite's WAL checkpoints off the commit path, and keeps the log under its bound.

    With automatic checkpoints, the commit that crosses the WAL threshold copies ~1000 pages
    back into the database file and pays for it in its latency. Connections disable them;
    this thread copies the bulk with a PASSIVE checkpoint (never blocks writers or readers).

    Under sustained writes that alone never lets the WAL restart from its beginning: new
    frames arrive while the thread copies, so the log is never fully copied when a writer
    begins, and the file grows without bound. So a writer that finds the file past half the
    bound (`SQLITE_WAL_LIMIT_BYTES`) once it holds the write lock copies the short tail the
    thread left (~1 ms): no writer of any process can append meanwhile, so the copy is
    complete. It then begins again, on a fully copied log, and the next writer (whichever
    process it is in) starts the log again from its beginning and cuts the file back to half
    the bound (`journal_size_limit`). Only a reader holding an old snapshot for long (which
    no writer waits for) lets the file grow further, until that reader is done.
    """

    def __init__(self, path: str, limit_bytes: int) -> None:
        super().__init__(name=f"sqlite-checkpoint:{path}", daemon=True)
        self.path = path
        self.wal_path = path + "-wal"
        self.restart_above = restart_size(limit_bytes)
        self.stopped = threading.Event()
        # Used only by the writer that holds the database's write lock, so by one at a time.
        self._tail_connection: sqlite3.Connection | None = None

    def _connect(self, timeout: float) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=timeout, check_same_thread=False,
                               isolation_level=None)

    def run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not self.stopped.wait(CHECKPOINT_EVERY_SECONDS):
                connection = connection or self._connect(timeout=1)
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    if _sqlite_code(exc) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                        # A storage fault (e.g. opened while the file was read-only): a new
                        # connection next round, once storage is back.
                        connection.close()
                        connection = None
        finally:
            if connection is not None:
                connection.close()

    def begin_write(self, dbapi_connection: sqlite3.Connection) -> None:
        """Begin a write transaction, first restarting a log past half the bound."""
        dbapi_connection.execute("BEGIN IMMEDIATE")
        try:
            if os.stat(self.wal_path).st_size <= self.restart_above:
                return
        except FileNotFoundError:
            return  # no log yet
        try:
            self._tail_connection = self._tail_connection or self._connect(timeout=0)
            busy, frames, copied = self._tail_connection.execute(
                "PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            # Another process is checkpointing, or a storage fault: the next writer tries again.
            if self._tail_connection is not None:
                self._tail_connection.close()
                self._tail_connection = None
            return
        if busy or copied != frames:
            return  # a reader still needs old frames: no writer waits for it
        # This transaction's snapshot predates the copy, so its commit would append after the
        # old log: begin again on the fully copied log, which the next commit restarts.
        dbapi_connection.execute("ROLLBACK")
        dbapi_connection.execute("BEGIN IMMEDIATE")

    def close(self) -> None:
        self.stopped.set()
        if self._tail_connection is not None:
            self._tail_connection.close()


def restart_size(limit_bytes: int) -> int:
    """The WAL size past which the log is restarted, and to which a restarted log is cut back:
    half the bound leaves room for the frames written meanwhile."""
    return limit_bytes // 2


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


def _sqlite_code(exc: BaseException) -> int:
    """SQLite's primary result code of a driver error (0 for anything else)."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF


def _writable(path: str) -> bool:
    # As the kernel sees this process (root without CAP_DAC_OVERRIDE, a read-only mount).
    return os.access(path, os.W_OK, effective_ids=True)


def _configure_sqlite(engine: Engine, path: str, wal_limit_bytes: int,
                      checkpointer: _Checkpointer | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event decide how transactions start (pysqlite would
        # otherwise begin lazily and defer the write lock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # see _Checkpointer
        cursor.execute(f"PRAGMA journal_size_limit={restart_size(wal_limit_bytes)}")
        cursor.close()
        # SQLite silently opens an unwritable file read-only, and such a connection stays so
        # for good: remember it, to replace it once the file is writable again (see begin).
        record.info["read_only"] = path != ":memory:" and not _writable(path)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.connection.info.get("read_only") and _writable(path):
            # Opened while the file was read-only: closed, and the transaction begins on a
            # fresh connection (held ones too, such as a market's writer).
            conn.invalidate()
        # Straight to the driver: this runs once per transaction on the order hot path.
        dbapi_connection = conn.connection.dbapi_connection
        if conn.get_execution_options().get(_WRITE_OPTION):
            if checkpointer is not None:
                checkpointer.begin_write(dbapi_connection)  # type: ignore[arg-type]
            else:
                dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        else:
            dbapi_connection.execute("BEGIN")  # type: ignore[union-attr]


@lru_cache
def _engine_for(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ":memory:"
        limit = get_settings().sqlite_wal_limit_bytes
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        checkpointer = None
        if path != ":memory:":
            checkpointer = _Checkpointer(path, limit)
            checkpointer.start()
            _checkpointers.append(checkpointer)
        _configure_sqlite(engine, path, limit, checkpointer)
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


def database_file_writable() -> bool:
    """On SQLite, whether this process may write the database file: connections opened before
    it turned read-only still commit, so a commit alone does not tell. True elsewhere."""
    parsed = make_url(current_url())
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return True
    return _writable(parsed.database)  # type: ignore[arg-type]


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
        checkpointer.close()
    _checkpointers.clear()
    _writer_for.cache_clear()
    _engine_for.cache_clear()
