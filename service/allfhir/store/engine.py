"""One engine per process and short transactions on it."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from .. import jsonout
from . import driver
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


class Checkpointer:
    """SQLite's WAL copied back into the database by a thread of each writing process, every
    `interval` seconds, instead of inside the commit that crosses the WAL's size limit.

    SQLite checkpoints (by default) in the COMMIT that brings the WAL past 1,000 pages: that
    request waits for the copy and its fsyncs, and so does every writer queued behind it (an
    AuditEvent per read makes every request a writer). At 1,000 reads a second that was one
    request in ten waiting 10-30 ms. A PASSIVE checkpoint takes no write lock, so here it
    runs beside the requests; the commit path keeps a checkpoint of its own only as a safety
    net, at a WAL of SAFETY_NET_PAGES, should this thread ever fall behind.

    A checkpoint copies the WAL back; it does not make the next commit write at the WAL's
    start again. SQLite starts the WAL over only when a writer begins while no reader is
    reading from it, and under a steady load of writes and reads there is always one: at 200
    `$convert`s a second the WAL grew to 8,000-9,300 pages within seconds and stayed near the
    safety net (benchmarks/README.md has the paced `$convert` runs with and without this).
    So once the WAL holds RESTART_PAGES pages, all copied, the thread takes a writer's turn
    (`writers`: a place in the queue, so no writer waits in SQLite's busy handler meanwhile)
    and has SQLite start the WAL over (RESTART), which needs the readers to finish the reads
    they are in: RESTART_TRIES tries, not SQLite's busy handler (which sleeps 1, 2, 5 ... ms).
    A reader that stays (a long export) leaves the WAL as it is until a later turn."""

    SAFETY_NET_PAGES = 10_000  # 40 MB of 4 KiB pages
    RESTART_PAGES = 4_000  # 16 MB, about a second of 200 `$convert`s (1,000: too many turns)
    RESTART_TRIES = 10  # each 0.2 ms apart: a read by id takes about as long

    def __init__(self, database: Path, writers: WriterQueue, interval: float = 0.1) -> None:
        self.database = database
        self.writers = writers
        self.interval = interval
        self.restarts = 0  # times the WAL was started over (tests)
        self._lock = threading.Lock()
        self._pid = 0
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    def ensure_running(self) -> None:
        """Start the thread in this process, once (a forked child starts its own)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._stop = threading.Event()
                self.thread = threading.Thread(target=self._run, args=(self._stop,), daemon=True,
                                               name="allfhir-sqlite-checkpoint")
                self.thread.start()
                self._pid = os.getpid()

    def stop(self) -> None:
        self._stop.set()

    def _run(self, stop: threading.Event) -> None:
        # no busy handler: a checkpoint that meets a lock says so and the next turn retries
        conn = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False,
                               timeout=0)
        try:
            while not stop.wait(self.interval):
                try:
                    _, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if pages >= self.RESTART_PAGES and copied == pages:
                        self._restart(conn)
                except sqlite3.Error:  # busy, or the file went away: the next turn retries
                    continue
        finally:
            conn.close()

    def _restart(self, conn: sqlite3.Connection) -> None:
        with self.writers.turn():
            for _ in range(self.RESTART_TRIES):
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                if not busy:
                    self.restarts += 1
                    return
                time.sleep(0.0002)


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
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={Checkpointer.SAFETY_NET_PAGES}")

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
        sqlite = u.get_backend_name() == "sqlite"
        # Reads on PostgreSQL run in autocommit: each SELECT its own snapshot, as at READ
        # COMMITTED inside a transaction, without the BEGIN and the ROLLBACK around it (on a
        # ROLLBACK psycopg forgets every statement it prepared). SQLite reads in a transaction:
        # one snapshot for all its statements.
        self._reads = self.engine if sqlite else \
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # SQLite files queue their writers (WriterQueue); PostgreSQL locks rows, not the database
        on_file = sqlite and u.database not in (None, "", ":memory:")
        self.writers = WriterQueue(Path(u.database)) if on_file else None
        self.checkpoints = Checkpointer(Path(u.database), self.writers) if on_file else None
        if self.checkpoints is not None:  # a Store dropped without dispose() stops it too
            weakref.finalize(self, self.checkpoints.stop)

    def reading(self) -> Connection:
        """A connection for reads only (`with store.reading() as conn:`)."""
        return self._reads.connect()

    def _turn(self) -> AbstractContextManager[None]:
        """A writer's turn: on SQLite, its place in the queue (and this process's checkpoints)."""
        if self.writers is None or self.checkpoints is None:
            return nullcontext()
        self.checkpoints.ensure_running()
        return self.writers.turn()

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        `durable=False` commits without waiting for the disk: a killed server loses nothing, a
        crash of the database host (power loss) may lose the last fraction of a second of such
        commits. For records whose loss does not lose accepted data (audit of reads), where the
        flush would be most of the request's time."""
        with self._turn(), self.engine.connect() as conn:
            conn = conn.execution_options(**{WRITE: True, DURABLE: durable})
            with conn.begin():
                if not durable and conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield conn

    @contextmanager
    def driver_transaction(self, durable: bool = True, pipelined: bool = False) -> Iterator[Any]:
        """`transaction`, on the driver's own connection (for `driver.py`'s statements): the same
        queue, BEGIN and durability, without SQLAlchemy's Connection around it.

        `pipelined`: the statements return nothing (inserts), so the transaction is one round
        trip on PostgreSQL, its BEGIN and COMMIT included (`driver.pipelined`)."""
        dialect = self.engine.dialect
        with self._turn():
            raw = self.engine.raw_connection()
            try:
                dbapi_conn = raw.driver_connection
                try:
                    with driver.pipelined(dbapi_conn, dialect) if pipelined else nullcontext():
                        if dialect.name == "sqlite":
                            begin_sqlite_write(dbapi_conn, raw.info, durable)
                        elif not durable:
                            dbapi_conn.execute("SET LOCAL synchronous_commit = off")
                        yield dbapi_conn
                        dbapi_conn.commit()
                except BaseException:
                    # out of the pipeline first: in an aborted one psycopg refuses the ROLLBACK
                    # (an error can arrive at any later statement, not only at the commit)
                    dbapi_conn.rollback()
                    raise
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
        if self.checkpoints is not None:
            self.checkpoints.stop()
        if self.writers is not None:
            self.writers.close()


def init_app(app: Any, url: str) -> Store:
    """Attach a Store to a Flask app (app.extensions['allfhir.store'])."""
    store = Store(url)
    app.extensions["allfhir.store"] = store
    return store
