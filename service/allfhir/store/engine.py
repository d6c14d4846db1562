"""One engine per process and short transactions on it."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from .. import jsonout
from .driver import Statements

WRITE = "allfhir_write"  # execution option: this connection's transaction writes
DURABLE = "allfhir_durable"  # execution option: its commit waits for the disk (the default)


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (SQLAlchemy's bare default is psycopg2)."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


SYNCHRONOUS = "allfhir_synchronous"  # connection.info: the PRAGMA synchronous last set on it


class WriterQueue:
    """SQLite has one writer at a time; this makes the writers of a database wait their turn in
    a queue instead of in SQLite's busy handler, which sleeps with a growing back-off (1, 2, 5,
    ... 100 ms) and lets a newcomer overtake a writer that has waited long: at a few hundred
    writes a second that was most of the tail latency (seconds at p99).

    Threads of a process queue on a lock; processes (gunicorn workers, `allfhir worker`) on an
    flock of a file beside the database, which wakes the next waiter as soon as it is released.
    A writer that does not take part (another program, a migration) still meets SQLite's busy
    timeout. Re-entrant: a transaction opened inside one of the same thread takes nothing more."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + "-writer.lock")
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        # one descriptor per process: a forked child (gunicorn's workers) opens its own, as an
        # flock held through the parent's descriptor would be shared with it
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def close(self) -> None:
        with self._threads:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)  # releases the flock too, were it held
            self._fd = None

    def __del__(self) -> None:  # a Store dropped without dispose(): no descriptor left open
        try:
            self.close()
        except (OSError, TypeError):  # at interpreter exit the os module may be gone already
            pass

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._threads:
            if self._depth == 0:
                fcntl.flock(self._file(), fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._file(), fcntl.LOCK_UN)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    u = make_url(url)
    # the JSON columns through orjson (jsonout: the stdlib's bytes, several times faster); every
    # read and write of a stored resource passes here
    codec: dict[str, Any] = {"json_serializer": jsonout.dumps, "json_deserializer": orjson.loads}
    if u.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **codec)
    if u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **codec)

    # SQLAlchemy's documented recipe for SQLite: let SQLAlchemy, not the driver, begin
    # transactions. Write transactions begin IMMEDIATE, so two writers queue on the lock (busy
    # timeout) instead of one failing when it upgrades a read lock; reads begin deferred and,
    # with WAL, run beside a writer.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(WRITE, False):
            begin_sqlite_write(conn.connection.driver_connection, conn.connection.info,
                               options.get(DURABLE, True))
        else:
            # straight to the driver: BEGIN returns nothing, and SQLAlchemy's statement execution
            # (result set-up, events) cost more than the BEGIN itself
            conn.connection.driver_connection.execute("BEGIN")

    return engine


def begin_sqlite_write(dbapi_conn: Any, info: dict[Any, Any], durable: bool) -> None:
    """BEGIN IMMEDIATE, with the commit's durability. WAL: FULL syncs the log at every commit;
    NORMAL leaves it to the next FULL commit or checkpoint (safe against a killed process, not
    against power loss). Set only when it changes: a statement less for most transactions."""
    wanted = "FULL" if durable else "NORMAL"
    if info.get(SYNCHRONOUS) != wanted:
        dbapi_conn.execute(f"PRAGMA synchronous={wanted}")
        info[SYNCHRONOUS] = wanted
    dbapi_conn.execute("BEGIN IMMEDIATE")


class Store:
    """The database of one deployment."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.statements = Statements(self.engine)  # the per-request ones, run on the driver
        u = make_url(self.url)
        # SQLite files queue their writers (WriterQueue); PostgreSQL locks rows, not the database
        self.writers = WriterQueue(Path(u.database)) \
            if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:") else None

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        `durable=False` commits without waiting for the disk: a killed server loses nothing, a
        crash of the database host (power loss) may lose the last fraction of a second of such
        commits. For records whose loss does not lose accepted data (audit of reads), where the
        flush would be most of the request's time."""
        with self.writers.turn() if self.writers else nullcontext(), self.engine.connect() as conn:
            conn = conn.execution_options(**{WRITE: True, DURABLE: durable})
            with conn.begin():
                if not durable and conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield conn

    @contextmanager
    def driver_transaction(self, durable: bool = True) -> Iterator[Any]:
        """`transaction`, on the driver's own connection (for `driver.py`'s statements): the same
        queue, BEGIN and durability, without SQLAlchemy's Connection around it."""
        with self.writers.turn() if self.writers else nullcontext():
            raw = self.engine.raw_connection()
            try:
                dbapi_conn = raw.driver_connection
                if self.engine.dialect.name == "sqlite":
                    begin_sqlite_write(dbapi_conn, raw.info, durable)
                elif not durable:
                    dbapi_conn.execute("SET LOCAL synchronous_commit = off")
                try:
                    yield dbapi_conn
                except BaseException:
                    dbapi_conn.rollback()
                    raise
                dbapi_conn.commit()
            finally:
                raw.close()

    def reachable(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
        if self.writers is not None:
            self.writers.close()


def init_app(app: Any, url: str) -> Store:
    """Attach a Store to a Flask app (app.extensions['allfhir.store'])."""
    store = Store(url)
    app.extensions["allfhir.store"] = store
    return store
