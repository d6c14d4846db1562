"""The store's few round trips to PostgreSQL keep what they must: a read by id runs alone (no
transaction around it) and leaves the pooled connection transactional for the next user; the
statements psycopg prepared outlive the request (a ROLLBACK would discard them all); a
request's AuditEvent, pipelined, commits whole or not at all. The same behaviour on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from allfhir.store import Store, audit, reads
from allfhir.store.reads import Criterion
from allfhir.store.schema import resources
from tests.conftest import fresh_database

REPORT = {"resourceType": "DiagnosticReport", "id": "r1", "status": "final",
          "code": {"text": "BCP-ALL molecular subtype report"}}


def _event(n: int, *references: str) -> dict:
    return {"resourceType": "AuditEvent", "action": "R", "outcome": "0",
            "agent": [{"who": {"display": f"client-{n}"}}],
            "entity": [{"what": {"reference": r}} for r in references]}


def _store_report(store: Store) -> None:
    with store.transaction() as conn:
        conn.execute(resources.insert().values(type="DiagnosticReport", id="r1", version_id=1,
                                               last_updated=datetime.now(UTC), content_hash="h",
                                               resource=REPORT))


def test_a_read_leaves_the_pooled_connection_transactional(store: Store) -> None:
    _store_report(store)
    assert reads.read(store, "DiagnosticReport", "r1").resource == REPORT
    # the read's connection is the one the pool hands out next: a failed transaction on it
    # must still roll back (in autocommit its insert would stay)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute(text("DELETE FROM resources"))
        raise RuntimeError("the caller fails after its statement")
    assert reads.read(store, "DiagnosticReport", "r1").resource == REPORT


@pytest.fixture
def postgresql_store(tmp_path: Path) -> Iterator[Store]:
    """PostgreSQL only: psycopg prepares statements on the server (sqlite3 caches its own)."""
    with fresh_database("postgresql", tmp_path) as url:
        store = Store(url)
        yield store
        store.dispose()


def test_prepared_statements_outlive_the_request(postgresql_store: Store) -> None:
    store = postgresql_store
    _store_report(store)
    for _ in range(8):  # psycopg prepares a statement from its 5th execution on a connection
        assert reads.read(store, "DiagnosticReport", "r1") is not None
        audit.record(store, _event(1, "DiagnosticReport/r1"))
        audit.search(store, [], 1, 0)  # a read through Core: its transaction ends on return
    raw = store.engine.raw_connection()  # one thread: the pool's one connection again
    try:
        cursor = raw.driver_connection.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    finally:
        raw.close()
    assert any(s.startswith("SELECT resources.resource") for s in prepared), prepared
    assert any(s.startswith("INSERT INTO audit_events") for s in prepared), prepared


def test_an_audit_event_is_committed_with_its_entities(store: Store) -> None:
    audit.record(store, _event(1, "DiagnosticReport/r1", "Observation/o1"))
    audit.record(store, _event(2, "DiagnosticReport/r2"))
    page = audit.search(store, [Criterion("entity", [(None, "Observation/o1")])], 10, 0)
    assert page.total == 1
    assert [e["agent"][0]["who"]["display"] for e in page.resources] == ["client-1"]
    assert audit.read(store, page.resources[0]["id"]) == page.resources[0]


def test_a_failing_audit_transaction_writes_none_of_its_rows(store: Store) -> None:
    row, entities = audit._rows(_event(1, "DiagnosticReport/r1"))
    with pytest.raises(IntegrityError), store.driver_transaction(durable=False, pipelined=True) as conn:
        # the same event twice: the second row breaks the primary key (reported at the commit,
        # or at a later statement when its answer comes back sooner)
        audit._insert(store, conn, [row, dict(row)], entities)
    assert audit.search(store, [], 10, 0).total == 0
    audit.record(store, _event(2, "DiagnosticReport/r2"))  # the connection is usable after it
    assert audit.search(store, [], 10, 0).total == 1


def test_an_error_met_before_the_commit_still_rolls_back(postgresql_store: Store) -> None:
    store = postgresql_store
    row, entities = audit._rows(_event(1, "DiagnosticReport/r1"))
    with pytest.raises(IntegrityError), store.driver_transaction(durable=False, pipelined=True) as conn:
        audit._insert(store, conn, [row, dict(row)], entities)
        with conn.pipeline():  # a nested block syncs at its end: the error arrives here, as it
            pass  # may at any statement after the failing one under load
    assert audit.search(store, [], 10, 0).total == 0
    audit.record(store, _event(2, "DiagnosticReport/r2"))
    assert audit.search(store, [], 10, 0).total == 1
