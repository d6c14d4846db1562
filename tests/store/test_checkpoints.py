"""SQLite's WAL is copied back into the database by a thread of each writing process
(store/engine.Checkpointer), not inside the commit that crosses the WAL's size limit: below the
safety net, a commit leaves its pages in the WAL, and the thread moves them."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from allfhir.store import Store, audit
from allfhir.store.engine import Checkpointer
from tests.conftest import fresh_database


def event(n: int) -> dict:
    return {"resourceType": "AuditEvent", "action": "R", "outcome": "0",
            "agent": [{"who": {"display": f"client-{n}"}}],
            "entity": [{"what": {"reference": f"DiagnosticReport/r{n}"}}]}


def soon(condition: Callable[[], bool], within: float = 5.0) -> bool:
    """Whether `condition` holds within `within` seconds (the thread acts on its own time)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def grows(path: Path, size: int, within: float = 5.0) -> bool:
    return soon(lambda: path.stat().st_size > size, within)


def test_the_thread_copies_the_wal_back_and_commits_do_not(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        database = tmp_path / "allfhir.db"
        store = Store(url)
        try:
            size = database.stat().st_size  # the migrations' connection checkpointed on close
            for n in range(200):
                audit.record(store, event(n))
            assert grows(database, size)  # the thread copied the new pages in
            assert store.checkpoints is not None and store.checkpoints.thread is not None

            store.checkpoints.stop()
            store.checkpoints.thread.join(5)
            assert not store.checkpoints.thread.is_alive()
            size = database.stat().st_size
            for n in range(200, 400):
                audit.record(store, event(n))
            # 200 AuditEvents are far below the safety net: no commit checkpointed them
            assert not grows(database, size, within=0.5)
            assert len(audit.recent(store, limit=1000)) == 400  # readers find them in the WAL
        finally:
            store.dispose()


def test_the_safety_net_is_set_on_every_connection_and_dispose_stops_the_thread(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        store = Store(url)
        audit.record(store, event(1))
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == \
                Checkpointer.SAFETY_NET_PAGES
        assert store.checkpoints is not None and store.checkpoints.thread is not None
        thread = store.checkpoints.thread
        assert thread.is_alive()
        store.dispose()
        thread.join(5)
        assert not thread.is_alive()
        with sqlite3.connect(tmp_path / "allfhir.db") as conn:  # still one database, all there
            assert conn.execute("SELECT count(*) FROM audit_events").fetchone() == (1,)


def test_postgresql_and_memory_databases_have_no_checkpoint_thread() -> None:
    assert Store("sqlite://").checkpoints is None
    assert Store("postgresql://nobody@127.0.0.1:1/none").checkpoints is None


def wal_pages(database: Path) -> int:
    """The WAL's frames as SQLite counts them (a PASSIVE checkpoint's second figure)."""
    with sqlite3.connect(database, timeout=0) as conn:
        return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]


def restarted(store: Store) -> bool:
    return soon(lambda: store.checkpoints is not None and store.checkpoints.restarts > 0)


def test_the_thread_starts_the_wal_over_once_it_is_long_while_reads_go_on(tmp_path: Path) -> None:
    # Under steady reads and writes SQLite itself never finds the moment to start the WAL over
    # (it grew to the safety net and stayed there): the thread makes that moment.
    with fresh_database("sqlite", tmp_path) as url:
        database = tmp_path / "allfhir.db"
        store = Store(url)
        reading = True

        def read() -> None:  # short reads one after the other, as requests make them
            with sqlite3.connect(database) as conn:
                while reading:
                    conn.execute("SELECT count(*) FROM audit_events").fetchone()

        reader = threading.Thread(target=read)
        try:
            audit.record(store, event(0))
            assert store.checkpoints is not None
            store.checkpoints.RESTART_PAGES = 100
            reader.start()
            n = 1
            deadline = time.monotonic() + 10
            while not store.checkpoints.restarts and time.monotonic() < deadline:
                audit.record(store, event(n))
                n += 1
            assert store.checkpoints.restarts
            audit.record(store, event(n))  # the next commit writes at the WAL's start again
            assert wal_pages(database) < 100
            assert len(audit.recent(store, limit=10_000)) == n + 1
        finally:
            reading = False
            if reader.is_alive():
                reader.join(5)
            store.dispose()


def test_a_reader_that_stays_keeps_the_wal_and_stalls_no_writer(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        database = tmp_path / "allfhir.db"
        store = Store(url)
        held = sqlite3.connect(database, isolation_level=None)
        try:
            audit.record(store, event(0))
            assert store.checkpoints is not None
            store.checkpoints.RESTART_PAGES = 100
            held.execute("BEGIN")
            held.execute("SELECT count(*) FROM audit_events").fetchone()  # a snapshot held
            start = time.monotonic()
            for n in range(1, 300):
                audit.record(store, event(n))
            time.sleep(0.5)  # several of the thread's turns
            assert store.checkpoints.restarts == 0
            assert time.monotonic() - start < 10  # the writers went on (no wait for the reader)
            held.execute("COMMIT")
            assert restarted(store)
        finally:
            held.close()
            store.dispose()
