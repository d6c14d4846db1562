"""The store on SQLite and PostgreSQL: one transaction per submission, idempotency, versions."""

from __future__ import annotations

import copy
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from allfhir.convert import convert
from allfhir.store import Store, reads, submissions
from allfhir.store.index import index_rows
from allfhir.store.reads import Criterion
from allfhir.store.schema import resource_history, resources, search_index
from allfhir.store.schema import submissions as submissions_table
from tests.conftest import DATA

ALLSORTS = DATA / "classifiers" / "allsorts-predictions.csv"


@pytest.fixture(scope="module")
def bundles() -> list[dict]:
    out = [b for b in convert([ALLSORTS]) if isinstance(b, dict)]
    assert out
    return out


def sub(body: bytes = b"csv", key: str | None = None) -> submissions.Submission:
    return submissions.Submission(body=body, sha256=submissions.digest(body), content_type="text/csv",
                                  format="allsorts", client="lims", idempotency_key=key)


def distinct(bundles: list[dict]) -> int:
    """Resources across the Bundles (the classifier Device is shared by its samples' reports)."""
    return len({(e["resource"]["resourceType"], e["resource"]["id"]) for b in bundles for e in b["entry"]})


def count(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_every_resource_stored_with_version_1_and_server_references(store: Store, bundles) -> None:
    stored = submissions.save(store, sub(), bundles, None)
    assert stored.created
    n = distinct(bundles)
    assert (count(store, resources), count(store, resource_history), count(store, submissions_table)) == (
        n, n, 1)
    report = bundles[0]["entry"][0]["resource"]
    got = reads.read(store, "DiagnosticReport", report["id"])
    assert got is not None and got.version_id == 1
    assert got.resource["meta"]["versionId"] == "1"
    assert got.resource["status"] == "final"
    # urn:uuid references became Type/id on the server
    result_refs = [r["reference"] for r in got.resource["result"]]
    assert result_refs and all(r.startswith("Observation/") for r in result_refs)
    for ref in result_refs:
        assert reads.read(store, "Observation", ref.split("/")[1]) is not None
    # the returned Bundles carry the stored versions but keep their in-Bundle references
    returned = stored.reports[0]["entry"][0]["resource"]
    assert returned["meta"]["versionId"] == "1" and returned["result"][0]["reference"].startswith("urn:uuid:")


def test_identical_resubmission_writes_nothing_and_answers_the_same(store: Store, bundles) -> None:
    first = submissions.save(store, sub(), bundles, None)
    rows = count(store, resource_history), count(store, search_index)
    again = submissions.save(store, sub(), bundles, None)
    assert not again.created and again.reports == first.reports
    assert submissions.find(store, submissions.digest(b"csv"), None).reports == first.reports
    # the same Idempotency-Key with other bytes is the same submission too
    keyed = submissions.save(store, sub(b"one", key="k-1"), bundles, None)
    assert keyed.created
    rows = count(store, resource_history), count(store, search_index)
    other = submissions.save(store, sub(b"two", key="k-1"), bundles, None)
    assert not other.created and other.reports == keyed.reports
    assert (count(store, resource_history), count(store, search_index)) == rows
    assert count(store, submissions_table) == 2


def test_changed_submission_versions_what_changed_and_amends_the_report(store: Store, bundles) -> None:
    submissions.save(store, sub(b"v1"), bundles[:1], None)
    changed = copy.deepcopy(bundles[:1])
    entries = changed[0]["entry"]
    obs = next(e["resource"] for e in entries if e["resource"]["resourceType"] == "Observation")
    untouched = next(e["resource"] for e in entries if e["resource"]["resourceType"] == "Device")
    obs["note"] = [{"text": "re-reviewed"}]
    stored = submissions.save(store, sub(b"v2"), changed, None)
    report_id = entries[0]["resource"]["id"]
    report = reads.read(store, "DiagnosticReport", report_id)
    assert report.version_id == 2 and report.resource["status"] == "amended"
    assert stored.reports[0]["entry"][0]["resource"]["status"] == "amended"
    assert reads.read(store, "Observation", obs["id"]).version_id == 2
    assert reads.read(store, "Device", untouched["id"]).version_id == 1
    versions = reads.history(store, "DiagnosticReport", report_id)
    assert [(v.version_id, v.resource["status"]) for v in versions] == [(2, "amended"), (1, "final")]
    assert reads.vread(store, "DiagnosticReport", report_id, 1).resource["status"] == "final"
    assert reads.vread(store, "DiagnosticReport", report_id, 3) is None
    # the index follows the current version only
    assert reads.search(store, "DiagnosticReport", [Criterion("status", [(None, "final")])], 10, 0).total == 0
    assert reads.search(store, "DiagnosticReport", [Criterion("status", [(None, "amended")])], 10, 0
                        ).total == 1


def test_concurrent_identical_submissions_make_one_set(store: Store, bundles) -> None:
    results: list[submissions.Stored] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def submit() -> None:
        try:
            barrier.wait()
            results.append(submissions.save(store, sub(b"same"), bundles, None))
        except BaseException as exc:  # collected: a thread's exception would be lost otherwise
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.created for r in results) == [False] * 7 + [True]
    assert all(r.reports == results[0].reports for r in results)
    n = distinct(bundles)
    assert (count(store, submissions_table), count(store, resource_history)) == (1, n)


def test_search_by_identifier_status_subject_and_paging(store: Store, bundles) -> None:
    submissions.save(store, sub(), bundles, None)
    reports = [b["entry"][0]["resource"] for b in bundles]
    ident = reports[0]["identifier"][0]
    page = reads.search(store, "DiagnosticReport",
                        [Criterion("identifier", [(ident["system"], ident["value"])])], 10, 0)
    assert page.total == 1 and page.resources[0]["id"] == reports[0]["id"]
    assert reads.search(store, "DiagnosticReport",
                        [Criterion("identifier", [("urn:other", ident["value"])])], 10, 0).total == 0
    everything = reads.search(store, "DiagnosticReport", [], 10, 0)
    assert everything.total == len(reports)
    first = reads.search(store, "DiagnosticReport", [], 1, 0)
    second = reads.search(store, "DiagnosticReport", [], 1, 1)
    assert [r["id"] for r in first.resources + second.resources] == sorted(r["id"] for r in reports)[:2]
    spec = reports[0]["specimen"][0]["identifier"]
    assert reads.search(store, "DiagnosticReport", [Criterion(
        "specimen:identifier", [(spec["system"], spec["value"])])], 10, 0).total == 1


def test_migrations_are_idempotent(database_url: str, tmp_path: Path) -> None:
    from allfhir.store import upgrade
    from allfhir.store.migrate import is_empty

    upgrade(database_url)
    assert not is_empty(database_url)
    assert is_empty(f"sqlite:///{tmp_path / 'empty.db'}")


def test_a_later_submission_equal_to_the_amendment_answers_amended(store: Store, bundles) -> None:
    submissions.save(store, sub(b"v1"), bundles[:1], None)
    changed = copy.deepcopy(bundles[:1])
    changed[0]["entry"][1]["resource"]["note"] = [{"text": "re-reviewed"}]
    submissions.save(store, sub(b"v2"), changed, None)
    rows = count(store, resource_history)
    # other bytes, same content (e.g. re-exported): nothing new, and the answer says amended
    again = submissions.save(store, sub(b"v2 again"), changed, None)
    report = again.reports[0]["entry"][0]["resource"]
    assert (report["status"], report["meta"]["versionId"]) == ("amended", "2")
    assert count(store, resource_history) == rows


def _device(bundle: dict) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Device")


def test_a_resource_two_bundles_of_one_submission_write_differently_is_two_versions(
        store: Store, bundles) -> None:
    # The classifier's Device is in every report of a cohort; should the second report carry it
    # changed, the submission writes version 1 then version 2 of it, as two submissions would.
    two = copy.deepcopy(bundles[:2])
    device = _device(two[1])
    device["note"] = [{"text": "recalibrated"}]
    stored = submissions.save(store, sub(b"both"), two, None)
    got = reads.read(store, "Device", device["id"])
    assert got.version_id == 2 and got.resource["note"] == [{"text": "recalibrated"}]
    assert [v.version_id for v in reads.history(store, "Device", device["id"])] == [2, 1]
    assert [_device(b)["meta"]["versionId"] for b in stored.reports] == ["1", "2"]
    with store.engine.connect() as conn:  # the index holds the current version once
        rows = conn.execute(select(func.count()).select_from(search_index)
                            .where(search_index.c.id == device["id"])).scalar_one()
    assert rows == len({(r["param"], r["system"], r["value"])
                        for r in index_rows(got.resource)})


def test_a_resource_two_bundles_of_one_submission_share_is_written_once(store: Store, bundles) -> None:
    stored = submissions.save(store, sub(b"shared"), bundles[:2], None)
    device = _device(bundles[0])
    assert _device(bundles[1])["id"] == device["id"]
    assert [v.version_id for v in reads.history(store, "Device", device["id"])] == [1]
    assert [_device(b)["meta"] for b in stored.reports] == [_device(stored.reports[0])["meta"]] * 2
