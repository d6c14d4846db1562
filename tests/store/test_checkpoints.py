"""SQLite's WAL is copied back into the database by a thread of each writing process
(store/engine.Checkpointer), not inside the commit that crosses the WAL's size limit: below the
safety net, a commit leaves its pages in the WAL, and the thread moves them."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from allfhir.store import Store, audit
from allfhir.store.engine import Checkpointer
from tests.conftest import fresh_database


def event(n: int) -> dict:
    return {"resourceType": "AuditEvent", "action": "R", "outcome": "0",
            "agent": [{"who": {"display": f"client-{n}"}}],
            "entity": [{"what": {"reference": f"DiagnosticReport/r{n}"}}]}


def grows(path: Path, size: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.stat().st_size > size:
            return True
        time.sleep(0.02)
    return False


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
