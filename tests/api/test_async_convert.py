"""`$convert` with `Prefer: respond-async`: 202 + status URL, the worker converts, a manifest of
NDJSON files; the same cohort twice is one job; only its client sees it; cancel; bad input."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

from allfhir.settings import Settings
from allfhir.store import jobs
from allfhir.store.schema import resources
from allfhir.worker import Worker
from tests.api.conftest import Api
from tests.api.test_convert_parameters import attachment, parameters
from tests.api.test_fhir_rest import ALLSORTS, ARRIBA, EXAMPLE, GENERIC, pipeline_ids, post, reports
from tests.conftest import REPO

ASYNC = {"Prefer": "respond-async"}


def kick_off(api: Api, data: bytes = b"", ctype: str = "text/csv", key: str = "writer", **kw):
    return api.client.post("/fhir/$convert", data=data or ALLSORTS.read_bytes(), content_type=ctype,
                           headers={**api.auth(key), **ASYNC}, **kw)


def status_path(r) -> str:
    assert r.status_code == 202, r.get_data(as_text=True)
    url = r.headers["Content-Location"]
    assert url.startswith("http://localhost/fhir/$convert-status/")
    return url.removeprefix("http://localhost")


def work(api: Api) -> None:
    worker = Worker(Settings(database_url=api.app.extensions["allfhir.settings"].database_url))
    assert worker.run_once() is True
    assert worker.run_once() is False
    worker.store.dispose()


def stored_count(api: Api) -> int:
    with api.store.engine.connect() as conn:
        return len(conn.execute(resources.select()).all())


def test_kick_off_queues_then_the_worker_converts_and_the_manifest_names_the_reports(api: Api) -> None:
    path = status_path(kick_off(api))
    assert stored_count(api) == 0  # nothing converted in the request
    poll = api.client.get(path, headers=api.auth())
    assert (poll.status_code, poll.headers["X-Progress"], poll.headers["Retry-After"]) == (202, "queued", "1")
    work(api)
    done = api.client.get(path, headers=api.auth())
    assert done.status_code == 200
    manifest = done.get_json()
    job = path.rsplit("/", 1)[1]
    assert manifest["request"] == "http://localhost/fhir/$convert"
    assert manifest["requiresAccessToken"] is True
    assert manifest["output"] == [{"type": "Bundle", "count": len(pipeline_ids(ALLSORTS)),
                                   "url": f"http://localhost/fhir/$convert-output/{job}/Bundle.ndjson"}]
    assert manifest["error"] == []
    out = api.client.get(manifest["output"][0]["url"].removeprefix("http://localhost"),
                         headers={**api.auth(), "Accept": "application/fhir+ndjson"})
    assert out.status_code == 200 and out.mimetype == "application/fhir+ndjson"
    bundles = [json.loads(line) for line in out.get_data(as_text=True).splitlines()]
    assert [[e["resource"]["id"] for e in b["entry"]] for b in bundles] == pipeline_ids(ALLSORTS)
    # stored like any synchronous conversion: readable by id
    report = bundles[0]["entry"][0]["resource"]
    read = api.client.get(f"/fhir/DiagnosticReport/{report['id']}", headers=api.auth("reader"))
    assert read.status_code == 200


def test_multipart_cohort_with_companion_converts_the_same_as_synchronously(api: Api) -> None:
    files = {"file": [(EXAMPLE.open("rb"), EXAMPLE.name), (ARRIBA.open("rb"), ARRIBA.name)]}
    path = status_path(kick_off(api, ctype="multipart/form-data", data=files))
    work(api)
    url = api.client.get(path, headers=api.auth()).get_json()["output"][0]["url"]
    text = api.client.get(url.removeprefix("http://localhost"), headers=api.auth()).get_data(as_text=True)
    bundles = [json.loads(line) for line in text.splitlines()]
    assert [[e["resource"]["id"] for e in b["entry"]] for b in bundles] == pipeline_ids(EXAMPLE, ARRIBA)
    assert "BCR::ABL1" in text


def output_bundles(api: Api, path: str) -> list[dict]:
    url = api.client.get(path, headers=api.auth()).get_json()["output"][0]["url"]
    text = api.client.get(url.removeprefix("http://localhost"), headers=api.auth()).get_data(as_text=True)
    return [json.loads(line) for line in text.splitlines()]


def test_a_parameters_body_converts_with_its_parameters_as_synchronously(api: Api) -> None:
    body = parameters(attachment(GENERIC, "application/json"),
                      {"name": "patient", "valueReference": {"reference": "Patient/p42"}},
                      {"name": "bundle-type", "valueCode": "transaction"})
    path = status_path(kick_off(api, data=body, ctype="application/fhir+json",
                                query_string={"actionability": "false"}))
    work(api)
    (bundle,) = output_bundles(api, path)
    assert bundle["type"] == "transaction"
    assert bundle["entry"][0]["resource"]["subject"] == {"reference": "Patient/p42"}
    # the same request answered at once gives the same report
    sync = post(api, body, "application/fhir+json", query="?actionability=false")
    assert reports(sync.get_json()) == [bundle]


def test_the_job_keeps_the_request_once(api: Api) -> None:
    files = {"file": [(EXAMPLE.open("rb"), EXAMPLE.name), (ARRIBA.open("rb"), ARRIBA.name)]}
    r = kick_off(api, ctype="multipart/form-data", data=files, query_string={"sample": "S1"})
    (job,) = jobs.of_kind(api.store, "convert")
    sent = EXAMPLE.read_bytes(), ARRIBA.read_bytes()
    body = base64.b64decode(job.payload["body"])
    assert all(body.count(f) == 1 for f in sent)  # the multipart body as it came
    assert job.payload["content_type"] == r.request.headers["Content-Type"]  # with its boundary
    assert job.payload["query"] == [["sample", "S1"]]
    # nothing else holds the files: the payload is the body's base64 and a few short fields
    assert len(json.dumps(job.payload)) < len(body) * 4 / 3 + 1000


def test_a_job_queued_with_its_files_beside_the_body_still_runs(api: Api) -> None:
    # the payload an earlier release queued: files decoded from the request, args merged
    data = ALLSORTS.read_bytes()
    jobs.submit(api.store, "convert", {
        "files": [["upload.csv", base64.b64encode(data).decode()]],
        "body": base64.b64encode(data).decode(), "content_type": "text/csv",
        "args": {"format": "allsorts"}, "client": "writer", "idempotency_key": None,
        "sha256": "0" * 64, "if_match": None, "requested": "2026-11-30T12:00:00+00:00"},
        key="convert:legacy")
    work(api)
    (job,) = jobs.of_kind(api.store, "convert")
    assert (job.state, job.result["reports"]) == ("done", len(pipeline_ids(ALLSORTS)))


def test_the_same_cohort_twice_is_one_job(api: Api) -> None:
    assert status_path(kick_off(api)) == status_path(kick_off(api))


def test_another_client_cannot_see_the_job(api: Api) -> None:
    path = status_path(kick_off(api))
    r = api.client.get(path, headers=api.auth("reader"))
    assert r.status_code == 404
    assert r.get_json()["resourceType"] == "OperationOutcome"


def test_unconvertible_input_is_a_422_with_the_problems_when_polled(api: Api) -> None:
    path = status_path(kick_off(api, data=b"sample,foo\nS1,0.5\n"))
    work(api)
    r = api.client.get(path, headers=api.auth())
    assert r.status_code == 422
    outcome = r.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"
    assert stored_count(api) == 0


def test_cancel_before_it_runs_then_the_status_is_gone(api: Api) -> None:
    path = status_path(kick_off(api))
    assert api.client.delete(path, headers=api.auth()).status_code == 202
    url = api.app.extensions["allfhir.settings"].database_url
    assert Worker(Settings(database_url=url)).run_once() is False
    assert api.client.get(path, headers=api.auth()).status_code == 404
    assert stored_count(api) == 0


def test_cancel_after_it_finished_is_a_conflict(api: Api) -> None:
    path = status_path(kick_off(api))
    work(api)
    r = api.client.delete(path, headers=api.auth())
    assert r.status_code == 409 and r.get_json()["issue"][0]["code"] == "conflict"


def test_polling_needs_credentials(api: Api) -> None:
    path = status_path(kick_off(api))
    assert api.client.get(path).status_code == 401


def test_the_worker_command_runs_what_is_due(api: Api) -> None:
    path = status_path(kick_off(api))
    url = api.app.extensions["allfhir.settings"].database_url
    proc = subprocess.run([sys.executable, "-m", "allfhir", "worker", "--once"], cwd=REPO,
                          env={**os.environ, "ALLFHIR_DATABASE_URL": url}, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert api.client.get(path, headers=api.auth()).status_code == 200
    job = jobs.get(api.store, int(path.rsplit("/", 1)[1]))
    assert (job.state, job.attempts) == ("done", 1)


def test_a_stale_if_match_is_checked_when_the_job_runs_and_polled_as_412(api: Api) -> None:
    first = api.client.post("/fhir/$convert", data=ALLSORTS.read_bytes(), content_type="text/csv",
                            headers=api.auth())
    assert first.status_code == 200
    changed = ALLSORTS.read_bytes().replace(b"SJALL015972,High hyperdiploid", b"SJALL015972,Low hyperdiploid")
    assert changed != ALLSORTS.read_bytes()
    r = api.client.post("/fhir/$convert", data=changed, content_type="text/csv",
                        headers={**api.auth(), **ASYNC, "If-Match": 'W/"7"'})
    path = status_path(r)
    work(api)
    poll = api.client.get(path, headers=api.auth())
    assert poll.status_code == 412
    assert poll.get_json()["issue"][0]["code"] == "conflict"
