"""The search index of dates and the migrations: precision ranges, and a migrated database
that is exactly the tables `schema.py` declares (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from allfhir.store import upgrade
from allfhir.store.engine import make_engine
from allfhir.store.index import date_range, date_rows
from allfhir.store.migrate import downgrade
from allfhir.store.schema import (
    audit_entities,
    audit_events,
    metadata,
    resources,
    search_dates,
    search_index,
)
from tests.conftest import fresh_database


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_date_spans_its_precision() -> None:
    assert date_range("2026") == (utc(2026, 1, 1), utc(2027, 1, 1))
    assert date_range("2026-12") == (utc(2026, 12, 1), utc(2027, 1, 1))
    assert date_range("2026-02-28") == (utc(2026, 2, 28), utc(2026, 3, 1))
    assert date_range("2026-11-25T10:00") == (utc(2026, 11, 25, 10), utc(2026, 11, 25, 10, 1))
    assert date_range("2026-11-25T10:00:01+02:00") == (utc(2026, 11, 25, 8, 0, 1), utc(2026, 11, 25, 8, 0, 2))
    assert date_range("2026-11-25T10:00:01.12Z") == (utc(2026, 11, 25, 10, 0, 1, 120000),
                                                     utc(2026, 11, 25, 10, 0, 1, 130000))
    assert [date_range(t) for t in ("2026-02-30", "2026-11-25T25:00", "9999", "26-11", "")] == [None] * 5


def test_date_rows_of_effective_and_last_updated() -> None:
    obs = {"resourceType": "Observation", "id": "o1", "meta": {"lastUpdated": "2026-12-01T09:30:00.250Z"},
           "effectivePeriod": {"start": "2026-11-01"}}
    assert date_rows(obs) == [
        {"type": "Observation", "id": "o1", "param": "_lastUpdated",
         "low": utc(2026, 12, 1, 9, 30, 0, 250000), "high": utc(2026, 12, 1, 9, 30, 0, 251000)},
        # an open end reaches as far as time goes
        {"type": "Observation", "id": "o1", "param": "date", "low": utc(2026, 11, 1),
         "high": datetime.max.replace(tzinfo=UTC)},
    ]
    task = {"resourceType": "Task", "id": "t1", "meta": {}, "authoredOn": "2026-11-01"}
    assert date_rows(task) == []  # Task has no date search here


def test_migrations_make_exactly_the_declared_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def _index_definition(conn, name: str) -> str:
    if conn.dialect.name == "sqlite":
        return conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).scalar_one()
    return conn.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = %s AND "
                                "schemaname = current_schema()", (name,)).scalar_one()


def test_the_partial_subject_index_is_the_same_from_migration_and_metadata(database_url: str) -> None:
    # compare_metadata compares an index's columns, not its WHERE: the benchmark's bulk load
    # makes the index from the metadata, a deployment from migration 0007
    subject_index = next(ix for ix in search_index.indexes if ix.name == "ix_search_index_subject")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            migrated = _index_definition(conn, "ix_search_index_subject")
            subject_index.drop(conn)
            subject_index.create(conn)
            assert _index_definition(conn, "ix_search_index_subject") == migrated
    finally:
        engine.dispose()
    assert migrated.replace('"', "").endswith(
        "(type, id, value) WHERE param = 'subject'" if database_url.startswith("sqlite") else
        "(type, id, value) WHERE ((param)::text = 'subject'::text)")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrading_indexes_what_was_stored_before(kind: str, tmp_path: Path) -> None:
    report = {"resourceType": "DiagnosticReport", "id": "r1", "effectiveDateTime": "2026-11-25",
              "meta": {"versionId": "1", "lastUpdated": "2026-11-25T08:00:00.000Z"}}
    event = {"resourceType": "AuditEvent", "id": "e1",
             "entity": [{"what": {"reference": "DiagnosticReport/r1"}}]}
    with fresh_database(kind, tmp_path, migrate=False) as url:
        upgrade(url, "0001")
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(insert(resources).values(type="DiagnosticReport", id="r1", version_id=1,
                                                      last_updated=utc(2026, 11, 25, 8),
                                                      content_hash="0" * 64, resource=report))
                conn.execute(insert(audit_events).values(id="e1", recorded=utc(2026, 11, 25, 8),
                                                         agent="lims", action="R", outcome="0",
                                                         resource=event))
            upgrade(url)
            with engine.connect() as conn:
                dates = conn.execute(select(search_dates.c.param, search_dates.c.low)
                                     .order_by(search_dates.c.param)).all()
                entities = conn.execute(select(audit_entities.c.event_id, audit_entities.c.reference)).all()
        finally:
            engine.dispose()
    assert [(p, low.replace(tzinfo=UTC) if low.tzinfo is None else low.astimezone(UTC))
            for p, low in dates] == [("_lastUpdated", utc(2026, 11, 25, 8)), ("date", utc(2026, 11, 25))]
    assert [tuple(e) for e in entities] == [("e1", "DiagnosticReport/r1")]


def _entities_table(url: str) -> tuple[list[str], list[str], bool, list[tuple[str, str]]]:
    """audit_entities as the database has it: key columns, indexes, rowid (SQLite), rows."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            key = found.get_pk_constraint("audit_entities")["constrained_columns"]
            indexes = [ix["name"] for ix in found.get_indexes("audit_entities")]
            rowid = conn.dialect.name == "sqlite" and "WITHOUT ROWID" not in conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'audit_entities'").scalar_one()
            rows = conn.execute(select(audit_entities.c.event_id, audit_entities.c.reference)
                                .order_by(audit_entities.c.reference)).all()
        return key, indexes, rowid, [tuple(r) for r in rows]
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_audit_entities_become_one_tree_keyed_by_reference_and_back(kind: str, tmp_path: Path) -> None:
    # migration 0008: what an audited request writes there touches one tree, not three
    with fresh_database(kind, tmp_path, migrate=False) as url:
        upgrade(url, "0007_search_index_subject")
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                for event_id, ref in (("e1", "DiagnosticReport/r2"), ("e2", "DiagnosticReport/r1")):
                    conn.execute(insert(audit_events).values(
                        id=event_id, recorded=utc(2026, 12, 2, 8), agent="lims", action="R", outcome="0",
                        resource={"resourceType": "AuditEvent", "id": event_id}))
                    conn.execute(insert(audit_entities).values(event_id=event_id, reference=ref))
        finally:
            engine.dispose()
        rows = [("e2", "DiagnosticReport/r1"), ("e1", "DiagnosticReport/r2")]
        before = (["event_id", "reference"], ["ix_audit_entities_reference"], kind == "sqlite", rows)
        assert _entities_table(url) == before
        upgrade(url)
        assert _entities_table(url) == (["reference", "event_id"], [], False, rows)
        downgrade(url, "0007_search_index_subject")
        assert _entities_table(url) == before
