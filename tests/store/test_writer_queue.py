"""SQLite writers of one database queue on a lock file beside it (store/engine.WriterQueue):
a second writer, in this process or another, waits for the first to finish instead of sleeping
in SQLite's busy handler; every write lands."""

from __future__ import annotations

import threading
from pathlib import Path

from allfhir.store import Store, audit
from allfhir.store.reads import Criterion
from tests.conftest import fresh_database


def event(n: int) -> dict:
    return {"resourceType": "AuditEvent", "action": "R", "outcome": "0",
            "agent": [{"who": {"display": f"client-{n}"}}],
            "entity": [{"what": {"reference": f"DiagnosticReport/r{n}"}}]}


def test_a_second_store_waits_for_the_writer_of_the_first(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        first, second = Store(url), Store(url)  # two lock-file descriptors: two processes' worth
        done = threading.Event()

        def write() -> None:
            audit.record(second, event(2))
            done.set()

        with first.writers.turn():
            writer = threading.Thread(target=write)
            writer.start()
            assert not done.wait(0.3)  # queued behind the held turn, not failed
            audit.record(first, event(1))  # the holder's own transaction: re-entrant
        writer.join(30)
        assert done.is_set()
        assert sorted(e["agent"][0]["who"]["display"] for e in audit.recent(first)) == [
            "client-1", "client-2"]
        assert (tmp_path / "allfhir.db-writer.lock").is_file()
        first.dispose()
        second.dispose()


def test_threads_writing_at_once_all_land(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        stores = [Store(url), Store(url)]
        threads = [threading.Thread(target=lambda n=n: [audit.record(stores[n % 2], event(n * 100 + i))
                                                        for i in range(25)]) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(audit.recent(stores[0], limit=1000)) == 200
        for s in stores:
            s.dispose()


def test_postgresql_and_memory_databases_have_no_queue(tmp_path: Path) -> None:
    assert Store("sqlite://").writers is None
    assert Store("postgresql://nobody@127.0.0.1:1/none").writers is None


def test_events_arriving_together_commit_together_and_each_lands(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        store = Store(url)
        threads = [threading.Thread(target=lambda n=n: [audit.record(store, event(n * 100 + i))
                                                        for i in range(30)]) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        events = audit.search(store, [], 1000, 0).resources
        assert len(events) == 180 == len({e["id"] for e in events})
        # each event keeps its own entity (the search by entity finds exactly it)
        assert [e["agent"][0]["who"]["display"] for e in audit.search(
            store, [Criterion("entity", [(None, "DiagnosticReport/r317")])], 10, 0).resources
        ] == ["client-317"]
        store.dispose()


def test_a_failed_commit_fails_every_request_whose_event_it_held(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path, migrate=False) as url:  # no tables: inserts fail
        store = Store(url)
        errors: list[str] = []

        def write(n: int) -> None:
            try:
                audit.record(store, event(n))
            except Exception as err:  # the error itself is the result
                errors.append(type(err).__name__)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == ["OperationalError"] * 5
        store.dispose()


def test_dispose_closes_the_lock_file_and_the_store_writes_on(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        store = Store(url)
        audit.record(store, event(1))
        fd = store.writers._fd
        assert fd is not None
        store.dispose()
        assert store.writers._fd is None
        audit.record(store, event(2))  # a disposed Store opens its engine and lock file again
        assert len(audit.recent(store)) == 2
        store.dispose()
