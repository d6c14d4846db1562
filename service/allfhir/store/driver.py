"""The few statements run on every request, executed on the driver's own cursor.

SQLAlchemy's statement execution (execution context, events, result set-up) costs 60-100 us a
statement here, more than SQLite takes to run it; a read by id runs three statements a request
(the read and the AuditEvent's two inserts), a new `$convert` about ten. A `Prepared` statement
is still written as Core, compiled once per dialect, with the column types' own bind and result
processors (the same JSON codec, the same SQLite datetime text), so what it writes and reads is
what Core would: only the per-call machinery is left out. Its errors are SQLAlchemy's, as Core
raises them. Everything else goes through Core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any] | None


class Prepared:
    """A Core statement compiled for one dialect: its SQL text, its parameters in the driver's
    order and each one's bind processor, and the result columns' processors."""

    __slots__ = ("_binds", "_get", "_literals", "_names", "_positional", "_processed", "_results",
                 "dialect", "sql")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.dialect = dialect
        self.sql = compiled.string
        self._positional = bool(compiled.positional)
        # the parameters as named in the SQL text (compiled.binds also holds the anonymous
        # templates of the values the statement gives itself)
        named = {name: bind for bind, name in compiled.bind_names.items()}
        self._names: list[str] = list(compiled.positiontup or []) if self._positional else list(named)
        self._binds: list[Processor] = [
            named[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self._names]
        # the values in SQL order at C speed (an executemany binds a row of each of dozens of rows)
        self._get: Callable[[Mapping[str, Any]], tuple[Any, ...]] = \
            itemgetter(*self._names) if len(self._names) > 1 else \
            (lambda values, name=self._names[0]: (values[name],)) if self._names else (lambda _: ())
        self._processed = any(p is not None for p in self._binds)
        # what the statement binds itself: a LIMIT, a literal in a condition (type = 'Observation')
        self._literals = {name: named[name].effective_value for name in self._names
                          if not named[name].required}
        # a SELECT's columns, or those an INSERT ... RETURNING returns
        columns = getattr(statement, "selected_columns", None) or getattr(statement, "exported_columns", ())
        self._results: list[Processor] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self._literals:
            values = {**self._literals, **values}
        bound: Sequence[Any] = self._get(values)
        if self._processed:
            bound = [v if p is None else p(v) for v, p in zip(bound, self._binds, strict=True)]
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


Transaction = Connection | Any  # Store.transaction's connection, or Store.driver_transaction's


def _driver(conn: Transaction) -> Any:
    """The driver's connection of a transaction: SQLAlchemy's Connection (`Store.transaction`)
    holds it; `Store.driver_transaction` hands it out itself."""
    return conn.connection.driver_connection if isinstance(conn, Connection) else conn


@contextmanager
def errors(dialect: Dialect, sql: str, parameters: Any = None) -> Iterator[None]:
    """The driver's errors as SQLAlchemy raises them from Core (an IntegrityError is
    `sqlalchemy.exc.IntegrityError`): callers catch the same exceptions on either path."""
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as err:
        raise DBAPIError.instance(sql, parameters, err, dbapi_error, dialect=dialect) from err


@contextmanager
def pipelined(conn: Transaction, dialect: Dialect) -> Iterator[None]:
    """Statements that return nothing (inserts), sent on PostgreSQL without waiting for each
    answer (psycopg's pipeline mode): one round trip for all of them instead of one each. A
    statement's error surfaces when the block ends, raised as SQLAlchemy's, as from the statement
    itself. SQLite runs in process: nothing to wait for."""
    if dialect.name != "postgresql":
        yield
        return
    with errors(dialect, "pipeline"), _driver(conn).pipeline():
        yield


def first(engine: Engine, prepared: Prepared, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of a read, on a pooled connection outside any transaction: a single
    SELECT is its own snapshot on both databases. psycopg would open a transaction around it
    (BEGIN, the SELECT, and the pool's ROLLBACK on return, after which psycopg forgets every
    statement it prepared); in autocommit the SELECT goes alone. sqlite3 (isolation_level None)
    runs it alone already."""
    raw = engine.raw_connection()
    try:
        dbapi_conn = raw.driver_connection
        alone = engine.dialect.name == "postgresql"
        if alone:
            dbapi_conn.autocommit = True
        try:
            found = _execute(dbapi_conn, prepared, prepared.parameters(values))
        finally:
            if alone:  # the pool's next user expects transactions (SQLAlchemy begins none itself)
                dbapi_conn.autocommit = False
    finally:
        raw.close()
    return prepared.row(found[0]) if found else None


def rows(conn: Transaction, prepared: Prepared, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Every row of a statement run inside `conn`'s transaction: a SELECT's, an INSERT ...
    RETURNING's; none of an UPDATE."""
    return [prepared.row(r) for r in _execute(conn, prepared, prepared.parameters(values))]


def _execute(conn: Transaction, prepared: Prepared, parameters: Any,
             many: bool = False) -> list[Any]:
    """Run on a cursor of the transaction's connection; the rows it returns (none for an
    executemany)."""
    cursor = _driver(conn).cursor()
    try:
        with errors(prepared.dialect, prepared.sql, parameters):
            if many:
                cursor.executemany(prepared.sql, parameters)
                return []
            cursor.execute(prepared.sql, parameters)
            # psycopg refuses to fetch what returns no rows; sqlite3 returns none
            return cursor.fetchall() if cursor.description is not None else []
    finally:
        cursor.close()


# the most parameters of one multi-row INSERT: psycopg converts a query's placeholders (in
# Python) at every execution of a query with more, and caches the conversion of smaller ones
MAX_PARAMETERS = 50


@cache  # kept: the prepared statements are keyed by the statement object
def _row_insert(table: Table) -> Insert:
    """One row of `table`, every column bound under its own name."""
    return insert(table).values({c.name: bindparam(c.name, type_=c.type) for c in table.c})


@cache  # powers of two up to MAX_PARAMETERS: a few per table
def _rows_insert(table: Table, rows: int) -> Insert:
    """`rows` rows of `table` in one INSERT ... VALUES (...), (...): column c of row j is r<j>_<c>."""
    return insert(table).values([{c.name: bindparam(f"r{j}_{c.name}", type_=c.type) for c in table.c}
                                 for j in range(rows)])


def insert_rows(conn: Transaction, statements: Statements, table: Table,
                rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of every column of `table` inserted inside `conn`'s transaction, in order.

    sqlite3's executemany runs one statement over the rows in C. psycopg's sends each row as
    a statement of its own (pipelined), about 28 us of Python a row: there the rows go as
    multi-row INSERTs of up to MAX_PARAMETERS values, in chunks of a power of two rows (a few
    statements per table, each compiled once, whatever the number of rows)."""
    if statements.dialect.name == "sqlite":
        insert_many(conn, statements[_row_insert(table)], rows)
        return
    done, most = 0, max(1, MAX_PARAMETERS // len(table.c))
    while done < len(rows):
        size = 1 << (min(most, len(rows) - done).bit_length() - 1)
        values = {f"r{j}_{name}": value for j, row in enumerate(rows[done:done + size])
                  for name, value in row.items()}
        prepared = statements[_rows_insert(table, size)]
        _execute(conn, prepared, prepared.parameters(values))
        done += size


def insert_many(conn: Transaction, prepared: Prepared, rows: Iterable[Mapping[str, Any]]) -> None:
    """Rows inserted inside `conn`'s transaction, in one executemany."""
    _execute(conn, prepared, [prepared.parameters(r) for r in rows], many=True)
