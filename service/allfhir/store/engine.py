"""One engine per process and short transactions on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

WRITE = "allfhir_write"  # execution option: this connection's transaction writes


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (SQLAlchemy's bare default is psycopg2)."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, json_deserializer=orjson.loads)
    if u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    # orjson reads the stored resources several times faster than the stdlib (the same dicts)
    engine = create_engine(url, connect_args={"timeout": 30}, json_deserializer=orjson.loads)

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
        write = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Store:
    """The database of one deployment."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    def reachable(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app: Any, url: str) -> Store:
    """Attach a Store to a Flask app (app.extensions['allfhir.store'])."""
    store = Store(url)
    app.extensions["allfhir.store"] = store
    return store
