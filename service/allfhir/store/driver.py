"""The few statements run on every request, executed on the driver's own cursor.

SQLAlchemy's statement execution (execution context, events, result set-up) costs 60-100 us a
statement here, more than SQLite takes to run it; a read by id runs three statements a request
(the read and the AuditEvent's two inserts). A `Prepared` statement is still written as Core,
compiled once per dialect, with the column types' own bind and result processors (the same
JSON codec, the same SQLite datetime text), so what it writes and reads is what Core would: only
the per-call machinery is left out. Everything else goes through Core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any] | None


class Prepared:
    """A Core statement compiled for one dialect: its SQL text, its parameters in the driver's
    order and each one's bind processor, and the result columns' processors."""

    __slots__ = ("_binds", "_names", "_positional", "_results", "sql")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self._positional = bool(compiled.positional)
        self._names: list[str] = list(compiled.positiontup or []) if self._positional \
            else list(compiled.binds)
        self._binds: list[Processor] = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self._names]
        columns = getattr(statement, "selected_columns", ())
        self._results: list[Processor] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        bound = [values[n] if p is None else p(values[n])
                 for n, p in zip(self._names, self._binds, strict=True)]
        return bound if self._positional else dict(zip(self._names, bound, strict=True))

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(v if p is None or v is None else p(v) for v, p in zip(raw, self._results, strict=True))


class Statements:
    """Prepared statements of one engine, compiled on first use."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self._prepared: dict[Executable, Prepared] = {}

    def __getitem__(self, statement: Executable) -> Prepared:
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = Prepared(statement, self.dialect)
        return prepared


def first(engine: Engine, prepared: Prepared, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of a read, on a pooled connection outside any transaction (a single
    SELECT is its own snapshot on both databases; the pool's reset on return ends the one
    psycopg opens)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        try:
            cursor.execute(prepared.sql, prepared.parameters(values))
            found = cursor.fetchone()
        finally:
            cursor.close()
    finally:
        raw.close()
    return prepared.row(found) if found is not None else None


def insert_many(dbapi_conn: Any, prepared: Prepared, rows: Iterable[Mapping[str, Any]]) -> None:
    """Rows inserted inside the transaction of `dbapi_conn` (`Store.driver_transaction`), in one
    executemany."""
    cursor = dbapi_conn.cursor()
    try:
        cursor.executemany(prepared.sql, [prepared.parameters(r) for r in rows])
    finally:
        cursor.close()
