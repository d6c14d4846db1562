"""Bulk export (FHIR Bulk Data Access): kick-off, polling, the worker writing one NDJSON file per
type, the manifest, the files served with the same credentials, cancel, and the refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from allfhir.api import create_app
from allfhir.settings import Settings
from allfhir.store import apikeys
from allfhir.store.schema import resources
from allfhir.worker import Worker
from tests.api.conftest import KEYS, LIMIT, Api
from tests.genomics.conftest import SV_VCF, _convert

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture
def exporting(database_url: str, tmp_path: Path) -> Iterator[Api]:
    """The API with its data folder in tmp_path, with Patient/A's results and one report
    without a subject stored."""
    settings = Settings(database_url=database_url, max_body_bytes=LIMIT, data_dir=tmp_path)
    app = create_app(settings)
    store = app.extensions["allfhir.store"]
    api = Api(app, app.test_client(), {n: apikeys.create(store, n, s) for n, s in KEYS.items()})
    _convert(api, "Patient/A", [("calls.csv", b",Prediction\nPT11_D,Ph\n"),
                                (SV_VCF.name, SV_VCF.read_bytes())])
    r = api.client.post("/fhir/$convert", data=b",Prediction\nNS1,Ph-like\n", content_type="text/csv",
                        headers=api.auth("writer"))
    assert r.status_code == 200
    yield api
    store.dispose()


def work(api: Api) -> None:
    worker = Worker(api.app.extensions["allfhir.settings"], ["export"])
    assert worker.run_once() is True
    worker.store.dispose()


def kick(api: Api, path: str = "/fhir/$export", key: str = "reader", **params: str):
    return api.client.get(path, query_string=params, headers={**api.auth(key), **ASYNC})


def status_path(r) -> str:
    assert r.status_code == 202, r.get_data(as_text=True)
    return r.headers["Content-Location"].removeprefix("http://localhost")


def stored(api: Api, rtype: str, subject: str | None = None) -> list[dict]:
    """The current versions of a type, read from the tables (ordered by id)."""
    with api.store.engine.connect() as conn:
        rows = conn.execute(select(resources.c.resource).where(resources.c.type == rtype)
                            .order_by(resources.c.id)).scalars().all()
    return [r for r in rows if subject is None or r.get("subject", {}).get("reference") == subject]


def manifest_of(api: Api, path: str, key: str = "reader") -> dict:
    r = api.client.get(path, headers=api.auth(key))
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def lines(api: Api, url: str, key: str = "reader") -> list[dict]:
    r = api.client.get(url.removeprefix("http://localhost"),
                       headers={**api.auth(key), "Accept": "application/fhir+ndjson"})
    assert r.status_code == 200 and r.mimetype == "application/fhir+ndjson"
    return [json.loads(line) for line in r.get_data(as_text=True).splitlines()]


def test_system_export_writes_one_file_per_type_with_every_resource(exporting: Api) -> None:
    path = status_path(kick(exporting))
    poll = exporting.client.get(path, headers=exporting.auth("reader"))
    assert (poll.status_code, poll.headers["X-Progress"], poll.headers["Retry-After"]) == (202, "queued", "2")
    work(exporting)
    manifest = manifest_of(exporting, path)
    job = path.rsplit("/", 1)[1]
    assert manifest["request"] == "http://localhost/fhir/$export"
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert manifest["transactionTime"].endswith("Z")
    types = [o["type"] for o in manifest["output"]]
    assert types == ["DiagnosticReport", "Observation", "Task", "Device", "MedicationStatement"]
    for out in manifest["output"]:
        assert out["url"] == f"http://localhost/fhir/$export-output/{job}/{out['type']}.ndjson"
        exported = lines(exporting, out["url"])
        assert out["count"] == len(exported)
        assert exported == stored(exporting, out["type"])  # the stored versions, by id
    reports = lines(exporting, manifest["output"][0]["url"])
    assert len(reports) == 2 and reports == sorted(reports, key=lambda r: r["id"])


def test_patient_export_has_only_resources_naming_a_subject(exporting: Api) -> None:
    path = status_path(kick(exporting, "/fhir/Patient/$export", _type="DiagnosticReport,Observation"))
    work(exporting)
    manifest = manifest_of(exporting, path)
    assert [o["type"] for o in manifest["output"]] == ["DiagnosticReport", "Observation"]
    reports = lines(exporting, manifest["output"][0]["url"])
    assert [r["subject"] for r in reports] == [{"reference": "Patient/A"}]
    observations = lines(exporting, manifest["output"][1]["url"])
    assert {o["subject"]["reference"] for o in observations} == {"Patient/A"}
    assert observations == stored(exporting, "Observation", subject="Patient/A")


def test_since_and_type_narrow_the_export(exporting: Api) -> None:
    later = status_path(kick(exporting, _type="Observation", _since="2999-01-01T00:00:00Z"))
    work(exporting)
    assert manifest_of(exporting, later)["output"] == []
    earlier = status_path(kick(exporting, _type="Observation", _since="2000-01-01T00:00:00Z",
                               _outputFormat="application/fhir+ndjson"))
    work(exporting)
    [out] = manifest_of(exporting, earlier)["output"]
    assert (out["type"], out["count"]) == ("Observation", len(stored(exporting, "Observation")))


def test_files_and_status_only_for_the_exporting_client_with_its_scopes(exporting: Api) -> None:
    path = status_path(kick(exporting, key="reader"))
    work(exporting)
    url = manifest_of(exporting, path)["output"][0]["url"].removeprefix("http://localhost")
    assert exporting.client.get(path, headers=exporting.auth("writer")).status_code == 404
    assert exporting.client.get(url, headers=exporting.auth("writer")).status_code == 404
    assert exporting.client.get(url).status_code == 401
    # the report reader may export (and download) reports only
    assert kick(exporting, key="report-reader").status_code == 403
    narrow = status_path(kick(exporting, key="report-reader", _type="DiagnosticReport"))
    work(exporting)
    assert len(lines(exporting, manifest_of(exporting, narrow, "report-reader")["output"][0]["url"],
                     "report-reader")) == 2


def test_delete_cancels_a_queued_export_and_removes_a_finished_ones_files(exporting: Api) -> None:
    queued = status_path(kick(exporting))
    assert exporting.client.delete(queued, headers=exporting.auth("reader")).status_code == 202
    gone = exporting.client.get(queued, headers=exporting.auth("reader"))
    assert gone.status_code == 404 and gone.get_json()["resourceType"] == "OperationOutcome"
    worker = Worker(exporting.app.extensions["allfhir.settings"], ["export"])
    assert worker.run_once() is False  # nothing left to run
    worker.store.dispose()
    done = status_path(kick(exporting))
    work(exporting)
    url = manifest_of(exporting, done)["output"][0]["url"].removeprefix("http://localhost")
    assert exporting.client.delete(done, headers=exporting.auth("reader")).status_code == 202
    assert exporting.client.get(url, headers=exporting.auth("reader")).status_code == 404
    assert exporting.client.get(done, headers=exporting.auth("reader")).status_code == 404


@pytest.mark.parametrize(("path", "params", "headers", "expected"), [
    ("/fhir/Group/cohort-1/$export", {}, ASYNC, (404, "not-found", "Group/cohort-1 is not known")),
    ("/fhir/$export", {}, {"Accept": "application/fhir+json"},
     (400, "required", "a bulk export runs asynchronously")),
    ("/fhir/$export", {"_outputFormat": "text/csv"}, ASYNC,
     (400, "not-supported", "_outputFormat 'text/csv' is not supported")),
    ("/fhir/Patient/$export", {"_type": "Task"}, ASYNC,
     (400, "not-supported", "_type Task: not exported at this level")),
    ("/fhir/$export", {"_since": "yesterday"}, ASYNC, (400, "value", "_since 'yesterday' is not")),
    ("/fhir/$export", {"_elements": "id"}, ASYNC,
     (400, "not-supported", "'_elements' is not a parameter of $export")),
])
def test_refusals_are_operation_outcomes(exporting: Api, path: str, params: dict, headers: dict,
                                         expected: tuple) -> None:
    r = exporting.client.get(path, query_string=params, headers={**exporting.auth("reader"), **headers})
    body = r.get_json()
    assert body["resourceType"] == "OperationOutcome"
    status, code, text = r.status_code, body["issue"][0]["code"], body["issue"][0]["diagnostics"]
    assert (status, code) == expected[:2] and text.startswith(expected[2]), text


@pytest.mark.parametrize("job", ["0", "269710578989830438912", str(2**63)])
def test_a_job_number_no_job_can_have_is_not_found(exporting: Api, job: str) -> None:
    for method, path in (("get", f"/fhir/$export-status/{job}"), ("delete", f"/fhir/$export-status/{job}"),
                         ("get", f"/fhir/$export-output/{job}/Observation.ndjson"),
                         ("get", f"/fhir/$convert-status/{job}")):
        r = getattr(exporting.client, method)(path, headers=exporting.auth("reader"))
        assert r.status_code == 404, (method, path)
        assert r.get_json()["resourceType"] == "OperationOutcome"
