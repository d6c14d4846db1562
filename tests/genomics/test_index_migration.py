"""Migration 0006 gives the Observations stored before it their `genomics-*` search-index rows,
the same rows store/index.py writes for new ones (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select

from allfhir.convert import convert
from allfhir.fhir.bundle import BuildOptions
from allfhir.store import Store, submissions, upgrade
from allfhir.store.migrate import downgrade
from allfhir.store.schema import search_index
from tests.genomics.conftest import SV_VCF


def genomics_rows(store: Store) -> list[tuple]:
    s = search_index.c
    with store.engine.connect() as conn:
        return sorted(conn.execute(select(s.type, s.id, s.param, s.system, s.value)
                                   .where(s.param.startswith("genomics-"))).all())


def test_upgrade_indexes_observations_stored_before(database_url: str, tmp_path: Path) -> None:
    calls = tmp_path / "calls.csv"
    calls.write_text(",Prediction\nPT11_D,Ph\n")
    bundles = [b for b in convert([calls, SV_VCF], opts=BuildOptions(patient="Patient/A"))
               if isinstance(b, dict)]
    store = Store(database_url)
    submissions.save(store, submissions.Submission(b"", "0" * 64), bundles, None)
    written = genomics_rows(store)
    assert {r[2] for r in written} == {"genomics-condition", "genomics-treatment",
                                       "genomics-source-class"}
    downgrade(database_url, "0007_search_index_subject")  # 0008 undone
    with store.transaction() as conn:  # as a store from before the rows existed
        conn.execute(delete(search_index).where(search_index.c.param.startswith("genomics-")))
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0005_endpoints'")
        conn.exec_driver_sql("DROP INDEX ix_search_index_value")
        conn.exec_driver_sql("DROP INDEX ix_search_index_subject")  # 0007's
    assert genomics_rows(store) == []
    upgrade(database_url)
    assert genomics_rows(store) == written
    store.dispose()
