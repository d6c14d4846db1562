"""A real `allfhir serve` (gunicorn, 2 workers) on 127.0.0.1, driven with requests, on an empty
SQLite file and an empty PostgreSQL schema (serve migrates them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from allfhir.store.schema import resource_history, submissions
from tests.conftest import DATA, REPO, fresh_database
from tests.server.live import LIMIT, Server, running_server
from tests.server.live import rows as count_rows

ALLSORTS = DATA / "classifiers" / "allsorts-predictions.csv"
EXAMPLE = REPO / "examples" / "allsorts" / "probabilities.csv"
ARRIBA = REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp(f"serve-{request.param}")
    with fresh_database(request.param, tmp, migrate=False) as database_url, \
            running_server(database_url) as (srv, _):
        yield srv


def rows(server: Server, table) -> int:
    return count_rows(server.database_url, table)


def test_serve_migrated_the_empty_database_and_is_ready(server: Server) -> None:
    r = requests.get(f"{server.url}/ready", timeout=5)
    assert (r.status_code, r.json()) == (200, {"status": "ready"})
    meta = requests.get(f"{server.url}/fhir/metadata", timeout=5)
    assert meta.status_code == 200 and meta.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert meta.json()["rest"][0]["resource"][0]["type"] == "DiagnosticReport"


def test_convert_read_and_search_over_http(server: Server) -> None:
    r = requests.post(f"{server.url}/fhir/$convert", data=ALLSORTS.read_bytes(), timeout=30,
                      headers=server.headers(**{"Content-Type": "text/csv"}), params={"format": "allsorts"})
    assert r.status_code == 200
    bundles = [p["resource"] for p in r.json()["parameter"] if p["name"] == "report"]
    assert len(bundles) == 4
    report = bundles[0]["entry"][0]["resource"]
    got = requests.get(f"{server.url}/fhir/DiagnosticReport/{report['id']}", headers=server.headers(),
                       timeout=5)
    assert (got.status_code, got.headers["ETag"], got.json()["id"]) == (200, 'W/"1"', report["id"])
    page = requests.get(f"{server.url}/fhir/DiagnosticReport", params={"_count": 2},
                        headers=server.headers(), timeout=5).json()
    links = {link["relation"]: link["url"] for link in page["link"]}
    assert links["self"] == f"{server.url}/fhir/DiagnosticReport?_count=2&_offset=0"
    assert links["next"] == f"{server.url}/fhir/DiagnosticReport?_count=2&_offset=2"
    nxt = requests.get(links["next"], headers=server.headers(), timeout=5).json()
    assert len(page["entry"]) + len(nxt["entry"]) == page["total"] == 4


def test_multipart_with_companion_files(server: Server) -> None:
    with EXAMPLE.open("rb") as classifier, ARRIBA.open("rb") as fusions:
        r = requests.post(f"{server.url}/fhir/$convert", headers=server.headers(), timeout=30,
                          files={"classifier": (EXAMPLE.name, classifier, "text/csv"),
                                 "fusions": (ARRIBA.name, fusions, "text/tab-separated-values")})
    assert r.status_code == 200
    assert "BCR::ABL1" in json.dumps(r.json())
    # the same two files as parts of one field name, as `curl -F file=@… -F file=@…` sends them
    with EXAMPLE.open("rb") as classifier, ARRIBA.open("rb") as fusions:
        again = requests.post(f"{server.url}/fhir/$convert", headers=server.headers(), timeout=30,
                              files=[("file", (EXAMPLE.name, classifier, "text/csv")),
                                     ("file", (ARRIBA.name, fusions, "text/tab-separated-values"))])
    assert again.status_code == 200
    assert "BCR::ABL1" in json.dumps(again.json())


def test_eight_concurrent_identical_submissions_create_one_set(server: Server) -> None:
    body = ALLSORTS.read_bytes().replace(b"SJBALL043684", b"CONCURRENT-1")
    before_subs, before_hist = rows(server, submissions), rows(server, resource_history)

    def submit(_: int) -> requests.Response:
        return requests.post(f"{server.url}/fhir/$convert", data=body, timeout=60,
                             headers=server.headers(**{"Content-Type": "text/csv"}))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(submit, range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert all(a.json() == answers[0].json() for a in answers)
    bundles = [p["resource"] for p in answers[0].json()["parameter"] if p["name"] == "report"]
    # what this submission wrote carries its time; resources it left unchanged keep theirs
    written = {e["resource"]["meta"]["lastUpdated"] for e in bundles[0]["entry"][:1]}
    new_versions = {(e["resource"]["resourceType"], e["resource"]["id"]) for b in bundles
                    for e in b["entry"] if e["resource"]["meta"]["lastUpdated"] in written}
    assert rows(server, submissions) == before_subs + 1
    assert rows(server, resource_history) - before_hist == len(new_versions) > 0


def test_failures_over_http_are_operation_outcomes(server: Server) -> None:
    def outcome(r: requests.Response) -> tuple[int, str]:
        assert r.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
        body = r.json()
        assert body["resourceType"] == "OperationOutcome"
        return r.status_code, body["issue"][0]["code"]

    base = f"{server.url}/fhir"
    assert outcome(requests.get(f"{base}/DiagnosticReport/x", timeout=5)) == (401, "login")
    wrong_key = {"X-API-Key": "afk_no"}
    assert outcome(requests.get(f"{base}/DiagnosticReport/x", headers=wrong_key, timeout=5)) == (401, "login")
    assert outcome(requests.get(f"{base}/DiagnosticReport/x", headers=server.headers(), timeout=5)) == (
        404, "not-found")
    assert outcome(requests.get(f"{base}/nothing/here/at/all", headers=server.headers(), timeout=5)) == (
        404, "not-found")
    assert outcome(requests.get(f"{base}/metadata", params={"_format": "xml"}, timeout=5)) == (
        406, "not-supported")
    assert outcome(requests.put(f"{base}/DiagnosticReport/x", headers=server.headers(), timeout=5)) == (
        405, "not-supported")
    assert outcome(requests.post(f"{base}/$convert", data=b"x", timeout=5,
                                 headers=server.headers(**{"Content-Type": "text/html"}))) == (
        415, "not-supported")
    assert outcome(requests.post(f"{base}/$convert", data=b"x" * (LIMIT + 10), timeout=5,
                                 headers=server.headers(**{"Content-Type": "text/csv"}))) == (
        413, "too-costly")
    bad = requests.post(f"{base}/$convert", data=b"a,b\n1,2\n", timeout=5,
                        headers=server.headers(**{"Content-Type": "text/csv"}))
    assert outcome(bad) == (422, "not-supported")
    assert bad.json()["issue"][0]["location"] == ["upload.csv, line 1"]
    assert "Traceback" not in bad.text


def test_validate_over_http(server: Server) -> None:
    bad = json.loads((DATA / "validation" / "bad-invalid-hgvs.json").read_text(encoding="utf-8"))
    r = requests.post(f"{server.url}/fhir/$validate", data=json.dumps(bad), timeout=60,
                      headers=server.headers(**{"Content-Type": "application/fhir+json"}))
    assert r.status_code == 200
    errors = [i for i in r.json()["issue"] if i["severity"] == "error"]
    assert errors == [{"severity": "error", "code": "code-invalid",
                       "diagnostics": "HGVS 'NM_016734.3:c.239C>>G' does not parse: "
                                      "NM_016734.3:c.239C>>G: char 19: Syntax error",
                       "expression": ["Bundle.entry[1].resource.component[1].value.coding[0].code"]}]


def test_translate_and_lookup_over_http(server: Server) -> None:
    subtype = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"
    r = requests.get(f"{server.url}/fhir/ConceptMap/$translate", headers=server.headers(), timeout=10,
                     params={"code": "ETV6-RUNX1", "system": "https://allfhir.org/fhir/CodeSystem/allsorts-labels"})
    assert r.status_code == 200
    concept = r.json()["parameter"][1]["part"][1]["valueCoding"]
    assert (concept["system"], concept["code"]) == (subtype, "etv6-runx1")
    looked = requests.get(f"{server.url}/fhir/CodeSystem/$lookup", headers=server.headers(), timeout=10,
                          params={"code": "etv6-runx1", "system": subtype}).json()
    assert looked["parameter"][2] == {"name": "display", "valueString": concept["display"]}
    read = requests.get(f"{server.url}/fhir/CodeSystem/bcp-all-subtype", headers=server.headers(), timeout=10)
    assert (read.status_code, read.json()["url"]) == (200, subtype)


def test_metrics_and_openapi_over_http(server: Server) -> None:
    doc = requests.get(f"{server.url}/openapi.json", timeout=5)
    assert doc.status_code == 200 and "/fhir/$convert" in doc.json()["paths"]
    metrics = requests.get(f"{server.url}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    # this worker answered the /metrics request itself at least (counted after it is answered)
    assert "# TYPE allfhir_http_requests_total counter" in metrics.text
    assert "# TYPE allfhir_http_request_duration_seconds histogram" in metrics.text
