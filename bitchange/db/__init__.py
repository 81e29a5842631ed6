"""Database engine and transactions.

SQLite by default (WAL, foreign keys, busy timeout, durable commits); any SQLAlchemy URL through
`DATABASE_URL`. Writers open their transaction with `write()`: on SQLite that is `BEGIN IMMEDIATE`,
so two writers queue on the database lock up front instead of deadlocking on a lock upgrade; on
PostgreSQL the services take row locks (`FOR UPDATE`) themselves.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from bitchange.config import get_settings

_WRITE_OPTION = "bitchange_write"
CHECKPOINT_EVERY_SECONDS = 1.0


class _Checkpointer(threading.Thread):
    """Moves SQLite's WAL checkpoints off the commit path.

    With automatic checkpoints, the commit that crosses the WAL threshold copies pages back
    into the database file and pays 10-20 ms for it. Connections disable them; this thread
    runs a PASSIVE checkpoint (never blocks writers or readers) on its own connection.
    """

    def __init__(self, path: str) -> None:
        super().__init__(name=f"sqlite-checkpoint:{path}", daemon=True)
        self.path = path
        self.stopped = threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=1, check_same_thread=False)
        try:
            while not self.stopped.wait(CHECKPOINT_EVERY_SECONDS):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    continue  # busy or locked: the next round catches up
        finally:
            connection.close()


_checkpointers: list[_Checkpointer] = []


def _configure_sqlite(engine: Engine) -> None:
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
        statement = ("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION)
                     else "BEGIN")
        conn.connection.dbapi_connection.execute(statement)  # type: ignore[union-attr]


@lru_cache
def _engine_for(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        if parsed.database and parsed.database != ":memory:":
            checkpointer = _Checkpointer(parsed.database)
            checkpointer.start()
            _checkpointers.append(checkpointer)
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
