"""If-Match and the other-patient conflict in the store, on SQLite and PostgreSQL: decided in the
writing transaction, so racing amendments of one version cannot both win."""

from __future__ import annotations

import copy
import threading

import pytest

from allfhir.convert import convert
from allfhir.errors import RequestError
from allfhir.store import Store, reads, submissions
from tests.store.test_submissions import ALLSORTS, sub


@pytest.fixture(scope="module")
def report() -> list[dict]:
    return [next(b for b in convert([ALLSORTS]) if isinstance(b, dict))]


def changed(bundles: list[dict], note: str) -> list[dict]:
    out = copy.deepcopy(bundles)
    obs = next(e["resource"] for e in out[0]["entry"] if e["resource"]["resourceType"] == "Observation")
    obs["note"] = [{"text": note}]
    return out


def race(store: Store, report: list[dict], if_match: int | None) -> list[BaseException | None]:
    """Eight different amendments of the stored report at once; what each one raised."""
    barrier = threading.Barrier(8)
    outcomes: list[BaseException | None] = [None] * 8

    def amend(i: int) -> None:
        try:
            barrier.wait()
            submissions.save(store, sub(f"v2-{i}".encode()), changed(report, f"change {i}"), None,
                             if_match=if_match)
        except BaseException as exc:  # collected: a thread's exception would be lost otherwise
            outcomes[i] = exc

    threads = [threading.Thread(target=amend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_racing_amendments_of_one_version_one_wins(store: Store, report: list[dict]) -> None:
    submissions.save(store, sub(b"v1"), report, None)
    rid = report[0]["entry"][0]["resource"]["id"]
    outcomes = race(store, report, if_match=1)
    assert sorted(getattr(o, "kind", repr(o)) for o in outcomes) == ["None"] + ["precondition-failed"] * 7
    current = reads.read(store, "DiagnosticReport", rid)
    assert current is not None and current.version_id == 2
    assert [v.version_id for v in reads.history(store, "DiagnosticReport", rid)] == [2, 1]


def test_racing_changed_submissions_all_become_versions(store: Store, report: list[dict]) -> None:
    # without If-Match every amendment stands, one after the other (none is lost or refused)
    submissions.save(store, sub(b"v1"), report, None)
    rid = report[0]["entry"][0]["resource"]["id"]
    assert race(store, report, if_match=None) == [None] * 8
    assert [v.version_id for v in reads.history(store, "DiagnosticReport", rid)] == list(range(9, 0, -1))
    obs = next(e["resource"]["id"] for e in report[0]["entry"]
               if e["resource"]["resourceType"] == "Observation")
    notes = {v.resource.get("note", [{}])[0].get("text") for v in reads.history(store, "Observation", obs)}
    assert notes == {None} | {f"change {i}" for i in range(8)}


def test_another_patient_is_refused_and_nothing_is_written(store: Store, report: list[dict]) -> None:
    first = copy.deepcopy(report)
    first[0]["entry"][0]["resource"]["subject"] = {"reference": "Patient/p1"}
    submissions.save(store, sub(b"p1"), first, None)
    moved = changed(first, "moved")
    moved[0]["entry"][0]["resource"]["subject"] = {"reference": "Patient/p2"}
    with pytest.raises(RequestError) as err:
        submissions.save(store, sub(b"p2"), moved, None)
    assert err.value.kind == "conflict"
    assert submissions.find(store, submissions.digest(b"p2"), None) is None
    rid = report[0]["entry"][0]["resource"]["id"]
    assert reads.read(store, "DiagnosticReport", rid).resource["subject"] == {"reference": "Patient/p1"}
