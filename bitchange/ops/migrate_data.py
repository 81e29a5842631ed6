"""Moving the exchange from its SQLite database to PostgreSQL (`python -m bitchange migrate-data
--to URL`), and proving the copy is the same exchange.

The source is the configured database (`DATABASE_URL`, SQLite). While the command runs it holds
the source's write lock (SQLite's `BEGIN IMMEDIATE`): no process can commit anything, so the
exchange is read-only until it ends, and what is copied and verified is one consistent state.
It refuses to start while an app process is alive (its scheduler lease is unexpired): stop
every app node first.

The target gets the migrations, then every table of the schema in dependency order (parents
before children, each in primary-key order), in batches, in one transaction; then its
sequences are moved past the copied ids. Verification compares, per table, the row count and a
SHA-256 over the rows in primary-key order (byte order for text keys, as SQLite sorts them), each
row's values in a canonical form (datetimes in UTC ISO-8601, bytes in hex); runs `reconcile()`
on the target; and rebuilds every market's order book from the target and from the source:
they must be equal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, Table, create_engine, func, inspect, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.types import String

from bitchange import db
from bitchange.db.migrate import is_current, upgrade
from bitchange.db.schema import metadata
from bitchange.jobs import lease
from bitchange.ledger import ReconcileReport, reconcile
from bitchange.ops.tables import StorageProbe
from bitchange.trading.service import book_from_database
from bitchange.trading.tables import MarketSequence

BATCH_ROWS = 2000
CONNECT_TIMEOUT_SECONDS = 10
# Rows the migrations themselves write (the health check's probe row): a freshly migrated
# database holds them and is still empty.
_WRITTEN_BY_MIGRATIONS = {StorageProbe.__tablename__}
_sequences = MarketSequence.__table__

# (table, rows copied so far, rows in the table)
Progress = Callable[[str, int, int], None]


class MigrationRefused(Exception):
    """Nothing was copied: why, in the operator's words."""


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sha256 == self.target_sha256


@dataclass(frozen=True)
class BookCheck:
    symbol: str
    resting_orders: int
    equal: bool


@dataclass
class Verification:
    tables: list[TableCheck] = field(default_factory=list)
    reconcile: ReconcileReport = field(default_factory=ReconcileReport)
    books: list[BookCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (all(t.ok for t in self.tables) and self.reconcile.ok
                and all(b.equal for b in self.books))

    def lines(self) -> list[str]:
        out = []
        for t in self.tables:
            verdict = "ok" if t.ok else (
                f"MISMATCH: {t.target_rows} rows on the target" if t.source_rows != t.target_rows
                else f"MISMATCH: target sha256 {t.target_sha256[:16]}")
            out.append(f"  {t.table:24} {t.source_rows:>9} rows  sha256 {t.source_sha256[:16]}  "
                       f"{verdict}")
        out.append(f"  reconcile on the target: {self.reconcile.summary()}")
        for b in self.books:
            out.append(f"  book {b.symbol:18} {b.resting_orders:>6} resting orders  "
                       + ("equal to the source's" if b.equal else "DIFFERS from the source's"))
        return out


@dataclass
class MigrationResult:
    source: str
    target: str
    rows_copied: int
    sequences_reset: int
    verification: Verification


def shown(url: URL | str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def target_engine(url: str) -> Engine:
    """A connected engine for the PostgreSQL target, or a refusal saying what is wrong."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        raise MigrationRefused(
            "--to is not a database URL; expected postgresql://USER:PASSWORD@HOST:5432/DBNAME"
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise MigrationRefused(f"The target must be PostgreSQL, not {parsed.get_backend_name()} "
                               "(postgresql://USER:PASSWORD@HOST:5432/DBNAME).")
    try:
        engine = create_engine(parsed, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    except (sa_exc.ArgumentError, ImportError) as exc:
        raise MigrationRefused(f"Cannot use {shown(parsed)}: {exc}") from None
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except sa_exc.DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise MigrationRefused(f"Cannot reach the target {shown(parsed)}: {reason}") from None
    return engine


@contextmanager
def _frozen_source() -> Iterator[Connection]:
    """The source, write-locked for as long as the block runs (nobody commits meanwhile)."""
    if not db.is_sqlite():
        raise MigrationRefused(f"The source ({shown(db.current_url())}, DATABASE_URL) is not "
                               "SQLite: this command moves a SQLite exchange to PostgreSQL.")
    with db.write() as conn:
        if not is_current(conn):
            raise MigrationRefused("The source database is not at the newest schema: run "
                                   "`python -m bitchange migrate` with this release first.")
        leader = lease.live_holder(conn)
        if leader:
            raise MigrationRefused(
                f"The exchange is running: {leader[0]} holds the scheduler lease until "
                f"{leader[1]:%H:%M:%S} UTC. Stop every app "
                "node (docker compose stop app) and run this again; a crashed process's lease "
                "expires after SCHEDULER_LEASE_SECONDS.")
        yield conn


def _tables() -> list[Table]:
    return list(metadata.sorted_tables)


def _rows_in(conn: Connection, table: Table) -> int:
    return conn.scalar(select(func.count()).select_from(table)) or 0


def _ordered(conn: Connection, table: Table):  # type: ignore[no-untyped-def]
    """All rows of `table` in primary-key order, text keys in byte order on either database."""
    keys = [column.collate("C") if conn.dialect.name == "postgresql"
            and isinstance(column.type, String) else column for column in table.primary_key]
    return select(*table.columns).order_by(*keys)


def _filled_tables(conn: Connection) -> list[str]:
    present = set(inspect(conn).get_table_names())
    return [t.name for t in _tables() if t.name in present
            and t.name not in _WRITTEN_BY_MIGRATIONS and _rows_in(conn, t)]


def _copy(source: Connection, target: Connection, table: Table, batch_rows: int,
          progress: Progress | None) -> int:
    total = _rows_in(source, table)
    names = [column.key for column in table.columns]
    copied = 0
    if progress:
        progress(table.name, 0, total)
    result = source.execution_options(yield_per=batch_rows).execute(_ordered(source, table))
    for batch in result.partitions():
        try:
            target.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in batch])
        except sa_exc.DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise MigrationRefused(f"Copying {table.name} failed after {copied} rows; nothing "
                                   f"was kept on the target: {reason}") from None
        copied += len(batch)
        if progress:
            progress(table.name, copied, total)
    return copied


def _reset_sequences(target: Connection) -> int:
    """Move every serial primary key's sequence past the largest copied id."""
    reset = 0
    for table in _tables():
        for column in table.primary_key:
            sequence = target.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                     {"t": table.name, "c": column.name})
            if sequence is None:
                continue
            largest = select(func.max(column)).scalar_subquery()
            target.execute(select(func.setval(sequence, func.coalesce(largest, 0) + 1, False)))
            reset += 1
    return reset


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    return value


def table_checksum(conn: Connection, table: Table, batch_rows: int = BATCH_ROWS) -> tuple[int,
                                                                                          str]:
    """(rows, SHA-256 over the rows in primary-key order, each in canonical form)."""
    digest = hashlib.sha256()
    rows = 0
    result = conn.execution_options(yield_per=batch_rows).execute(_ordered(conn, table))
    for batch in result.partitions():
        for row in batch:
            digest.update(json.dumps([_canonical(v) for v in row], ensure_ascii=False,
                                     separators=(",", ":")).encode())
            digest.update(b"\n")
        rows += len(batch)
    return rows, digest.hexdigest()


def verify(source: Connection, target: Connection) -> Verification:
    """Compare the target with the source table by table, reconcile the target, and rebuild
    every market's book from both."""
    result = Verification()
    for table in _tables():
        source_rows, source_sum = table_checksum(source, table)
        target_rows, target_sum = table_checksum(target, table)
        result.tables.append(TableCheck(table.name, source_rows, target_rows, source_sum,
                                        target_sum))
    result.reconcile = reconcile(target)
    for symbol in source.scalars(select(_sequences.c.symbol).order_by(_sequences.c.symbol)):
        expected = book_from_database(source, symbol).snapshot()
        try:
            actual = book_from_database(target, symbol).snapshot()
        except ValueError:  # the market is missing or broken on the target
            actual = None
        resting = sum(len(orders) for side in expected for _, orders in side)
        result.books.append(BookCheck(symbol, resting, actual == expected))
    return result


def migrate_data(target_url: str, *, force: bool = False, batch_rows: int = BATCH_ROWS,
                 progress: Progress | None = None,
                 announce: Callable[[str], None] = lambda _line: None) -> MigrationResult:
    """Copy the configured SQLite database to the PostgreSQL database at `target_url` and
    verify the copy. Refuses (MigrationRefused) before copying anything when the app is
    running, the source is not migrated, or the target holds data (unless `force`: then the
    target's rows are replaced)."""
    target = target_engine(target_url)
    try:
        with _frozen_source() as source:
            announce(f"Source {shown(db.current_url())} is locked for writing: the exchange is "
                     "read-only until this ends.")
            with target.connect() as conn:
                filled = _filled_tables(conn)
            if filled and not force:
                raise MigrationRefused(
                    f"The target {shown(target.url)} is not empty ({', '.join(filled[:5])}"
                    f"{'...' if len(filled) > 5 else ''} hold rows). Use a new database, or "
                    "--force to replace its rows with the source's.")
            announce(f"Applying the migrations on {shown(target.url)}")
            upgrade(target)
            copied = 0
            with target.begin() as conn:
                for table in reversed(_tables()):
                    conn.execute(table.delete())
                for table in _tables():
                    copied += _copy(source, conn, table, batch_rows, progress)
                reset = _reset_sequences(conn)
            announce(f"Copied {copied} rows; {reset} sequences moved past the copied ids. "
                     "Verifying...")
            with target.connect() as conn, conn.begin():
                verification = verify(source, conn)
    finally:
        target.dispose()
    return MigrationResult(shown(db.current_url()), shown(target.url), copied, reset,
                           verification)


def verify_only(target_url: str) -> Verification:
    """The verification alone, against a target migrated before (the source write-locked)."""
    target = target_engine(target_url)
    try:
        with _frozen_source() as source, target.connect() as conn, conn.begin():
            if not is_current(conn):
                raise MigrationRefused(f"The target {shown(target.url)} is not migrated: copy "
                                       "the exchange first (without --verify-only).")
            return verify(source, conn)
    finally:
        target.dispose()
