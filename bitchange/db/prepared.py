"""Statements for the hot path: a Core statement compiled once per dialect and run on the
DB-API cursor of the caller's connection, inside its transaction.

SQLAlchemy spends ~60 us per `execute` on cache keys, parameter processing and result setup;
the placement of one order runs ~20 statements, so that overhead alone was 5x the raw cost of
the transaction (see benchmarks/placement_bench.py). Statements stay portable Core (SQLite and
PostgreSQL); only their execution skips the per-call machinery. Type conversions still apply:
each parameter goes through its column type's bind processor.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, bindparam, insert
from sqlalchemy.sql import Executable

# (SQL, the positional parameters' getter (None for named ones), positions with a bind
# processor, literal defaults, processors by name)
_Compiled = tuple[str, Callable[[Mapping[str, Any]], tuple[Any, ...]] | None,
                  list[tuple[int, Callable[[Any], Any]]], dict[str, Any],
                  dict[str, Callable[[Any], Any]]]


def _getter(names: list[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of `names` from a mapping, as a tuple, in C (`itemgetter`)."""
    if not names:
        return lambda _params: ()
    get = itemgetter(*names)
    return (lambda params: (get(params),)) if len(names) == 1 else get


class Prepared:
    __slots__ = ("_compiled", "_results", "_row", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._results: dict[str, list[Callable[[Any], Any] | None]] = {}
        self._row: type | None = None

    def _for(self, conn: Connection) -> _Compiled:
        dialect = conn.dialect
        entry = self._compiled.get(dialect.name)
        if entry is None:
            compiled = self.statement.compile(dialect=dialect)
            defaults = {k: v for k, v in compiled.construct_params(_check=False).items()
                        if v is not None}  # literal values such as the 0 in `x >= 0`
            processors = {}
            for bind in compiled.binds.values():
                processor = bind.type.bind_processor(dialect)
                if processor is not None:
                    processors[bind.key] = processor
            names = list(compiled.positiontup or ()) if compiled.positional else []
            getter = _getter(names) if compiled.positional else None
            converted = [(i, processors[name]) for i, name in enumerate(names)
                         if name in processors]
            entry = self._compiled[dialect.name] = (compiled.string, getter, converted,
                                                    defaults, processors)
        return entry

    @staticmethod
    def _args(entry: _Compiled, params: Mapping[str, Any]):  # type: ignore[no-untyped-def]
        _, getter, converted, defaults, processors = entry
        if getter is not None:
            values = getter({**defaults, **params} if defaults else params)
            if not converted:
                return values
            out = list(values)
            for i, processor in converted:
                if out[i] is not None:
                    out[i] = processor(out[i])
            return tuple(out)
        values = {**defaults, **params} if defaults else dict(params)
        for key, processor in processors.items():
            if key in values and values[key] is not None:
                values[key] = processor(values[key])
        return values

    def execute(self, conn: Connection, params: Mapping[str, Any]):  # type: ignore[no-untyped-def]
        """Run once; returns the DB-API cursor (rowcount, fetchone...)."""
        entry = self._for(conn)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(entry[0], self._args(entry, params))
        return cursor

    def executemany(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        entry = self._for(conn)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(entry[0], [self._args(entry, row) for row in rows])
        cursor.close()

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        cursor = self.execute(conn, params)
        row = cursor.fetchone()
        cursor.close()
        return None if row is None else row[0]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple | None:  # type: ignore[type-arg]
        cursor = self.execute(conn, params)
        row = cursor.fetchone()
        cursor.close()
        return row

    def typed_first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """`first` as a named tuple of the selected columns, each value through its column
        type's result processor as SQLAlchemy would (SQLite's text datetimes become
        timezone-aware datetimes); None without a row."""
        row = self.first(conn, params)
        if row is None:
            return None
        processors = self._results.get(conn.dialect.name)
        if processors is None:
            columns = self.statement.selected_columns  # type: ignore[attr-defined]
            self._row = namedtuple("Row", [c.key for c in columns])  # type: ignore[misc]
            processors = self._results[conn.dialect.name] = [
                c.type.dialect_impl(conn.dialect).result_processor(conn.dialect, None)
                for c in columns]
        return self._row._make(  # type: ignore[union-attr]
            value if process is None or value is None else process(value)
            for process, value in zip(processors, row, strict=True))

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        cursor = self.execute(conn, params)
        count = cursor.rowcount
        cursor.close()
        return count


def insert_row(table, columns: Iterable[str], *, returning: str | None = None) -> Prepared:  # type: ignore[no-untyped-def]
    """INSERT of the named columns, each bound under its own name (optionally RETURNING)."""
    statement = insert(table).values({name: bindparam(name) for name in columns})
    if returning is not None:
        statement = statement.returning(table.c[returning])
    return Prepared(statement)
