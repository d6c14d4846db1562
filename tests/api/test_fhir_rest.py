"""The FHIR REST API through Flask's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import urlsplit

from allfhir.convert import convert
from allfhir.store import audit
from allfhir.store.schema import resource_history
from tests.api.conftest import LIMIT, Api
from tests.conftest import DATA, REPO

ALLSORTS = DATA / "classifiers" / "allsorts-predictions.csv"
GENERIC = DATA / "classifiers" / "generic-single.json"
EXAMPLE = REPO / "examples" / "allsorts" / "probabilities.csv"
ARRIBA = REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"


def pipeline_ids(*paths: Path) -> list[list[str]]:
    """Resource ids per report, as the CLI's pipeline makes them."""
    return [[e["resource"]["id"] for e in b["entry"]] for b in convert(list(paths)) if isinstance(b, dict)]


def reports(body: dict) -> list[dict]:
    assert body["resourceType"] == "Parameters"
    return [p["resource"] for p in body["parameter"] if p["name"] == "report"]


def post(api: Api, data: bytes, ctype: str, key: str = "writer", query: str = "", **headers: str):
    return api.client.post(f"/fhir/$convert{query}", data=data,
                           headers={**api.auth(key), "Content-Type": ctype, **headers})


def issue(response) -> tuple[int, str, str]:
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome", body
    assert response.content_type == "application/fhir+json; charset=utf-8"
    return response.status_code, body["issue"][0]["code"], body["issue"][0]["diagnostics"]


def history_rows(api: Api) -> int:
    with api.store.engine.connect() as conn:
        return len(conn.execute(resource_history.select()).all())


def test_metadata_lists_exactly_what_is_implemented(api: Api) -> None:
    r = api.client.get("/fhir/metadata")  # no credentials needed
    assert r.status_code == 200 and r.content_type == "application/fhir+json; charset=utf-8"
    cs = r.get_json()
    assert (cs["resourceType"], cs["fhirVersion"], cs["kind"], cs["format"]) == (
        "CapabilityStatement", "4.0.1", "instance", ["json"])
    rest = cs["rest"][0]
    types = {res["type"]: res for res in rest["resource"]}
    assert list(types) == ["DiagnosticReport", "Observation", "Task", "ResearchStudy", "Device",
                           "MedicationStatement", "AuditEvent", "StructureDefinition", "CodeSystem",
                           "ValueSet", "ConceptMap", "NamingSystem", "OperationDefinition", "Endpoint"]
    assert [i["code"] for i in types["Task"]["interaction"]] == ["read", "vread", "history-instance"]
    assert [i["code"] for i in types["DiagnosticReport"]["interaction"]] == [
        "read", "vread", "history-instance", "search-type"]
    assert [p["name"] for p in types["DiagnosticReport"]["searchParam"]] == [
        "identifier", "status", "code", "subject", "specimen", "based-on", "date", "_lastUpdated"]
    assert [p["name"] for p in types["Observation"]["searchParam"]] == [
        "identifier", "status", "code", "value-concept", "subject", "specimen", "based-on", "derived-from",
        "date", "_lastUpdated"]
    ig = "http://hl7.org/fhir/uv/genomics-reporting/OperationDefinition"
    assert [(o["name"], o["definition"]) for o in rest["operation"]] == [
        ("convert", "https://allfhir.org/fhir/OperationDefinition/convert"),
        ("validate", "http://hl7.org/fhir/OperationDefinition/Resource-validate"),
        ("process-message", "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"),
        *((name, f"{ig}/{name}") for name in (
            "find-subject-variants", "find-subject-specific-variants",
            "find-subject-structural-intersecting-variants",
            "find-subject-structural-subsuming-variants", "find-subject-tx-implications",
            "find-subject-dx-implications", "find-study-metadata",
            "find-population-specific-variants", "find-population-tx-implications",
            "find-population-dx-implications")),
        *(("export", f"http://hl7.org/fhir/uv/bulkdata/OperationDefinition/{name}")
          for name in ("export", "patient-export", "group-export"))]
    assert [o["name"] for o in types["DiagnosticReport"]["operation"]] == [
        "render", "delivery-status", "retry"]
    assert [i["code"] for i in types["Endpoint"]["interaction"]] == ["create", "read", "delete",
                                                                     "search-type"]
    assert "Prefer: respond-async" in rest["operation"][0]["documentation"]


def test_health_and_ready_need_no_credentials(api: Api) -> None:
    for path, status in (("/health", "ok"), ("/ready", "ready")):
        r = api.client.get(path)
        assert (r.status_code, r.get_json()) == (200, {"status": status})


def test_convert_csv_stores_every_report_with_the_pipelines_ids(api: Api) -> None:
    r = post(api, ALLSORTS.read_bytes(), "text/csv", query="?format=allsorts")
    assert r.status_code == 200
    got = reports(r.get_json())
    assert [[e["resource"]["id"] for e in b["entry"]] for b in got] == pipeline_ids(ALLSORTS)
    for bundle in got:
        for entry in bundle["entry"]:
            res = entry["resource"]
            stored = api.client.get(f"/fhir/{res['resourceType']}/{res['id']}", headers=api.auth("reader"))
            assert stored.status_code == 200
            assert stored.headers["ETag"] == 'W/"1"'
            assert stored.get_json()["meta"]["versionId"] == "1"
            assert stored.headers["Last-Modified"].endswith(" GMT")


def test_convert_multipart_with_a_companion_file(api: Api) -> None:
    files = {"classifier": (EXAMPLE.open("rb"), EXAMPLE.name), "fusions": (ARRIBA.open("rb"), ARRIBA.name)}
    r = api.client.post("/fhir/$convert", data=files, content_type="multipart/form-data",
                        headers=api.auth())
    assert r.status_code == 200
    got = reports(r.get_json())
    assert [[e["resource"]["id"] for e in b["entry"]] for b in got] == pipeline_ids(EXAMPLE, ARRIBA)
    # the BCR::ABL1 fusion from the Arriba file is in SJBALL043684's report
    report = next(b for b in got if "SJBALL043684" in json.dumps(b["entry"][0]["resource"]["identifier"]))
    assert "BCR::ABL1" in json.dumps(report)


def test_convert_multipart_parts_under_one_field_name(api: Api) -> None:
    # what `curl -F file=@probabilities.csv -F file=@....arriba.fusions.tsv` sends
    files = {"file": [(EXAMPLE.open("rb"), EXAMPLE.name), (ARRIBA.open("rb"), ARRIBA.name)]}
    r = api.client.post("/fhir/$convert", data=files, content_type="multipart/form-data",
                        headers=api.auth())
    assert r.status_code == 200
    got = reports(r.get_json())
    assert [[e["resource"]["id"] for e in b["entry"]] for b in got] == pipeline_ids(EXAMPLE, ARRIBA)


def test_convert_generic_json_and_parameters(api: Api) -> None:
    r = post(api, GENERIC.read_bytes(), "application/json",
             query="?patient=Patient/p42&sample=LAB-0042&actionability=false&bundle-type=transaction")
    assert r.status_code == 200
    (bundle,) = reports(r.get_json())
    assert bundle["type"] == "transaction"
    report = bundle["entry"][0]["resource"]
    assert report["subject"] == {"reference": "Patient/p42"}
    assert report["id"] == pipeline_ids(GENERIC)[0][0]  # the report identity is the sample's


def test_resubmission_answers_the_same_and_writes_nothing(api: Api) -> None:
    first = post(api, ALLSORTS.read_bytes(), "text/csv")
    rows = history_rows(api)
    again = post(api, ALLSORTS.read_bytes(), "text/csv")
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert history_rows(api) == rows
    keyed = post(api, GENERIC.read_bytes(), "application/json", **{"Idempotency-Key": "lims-0042-1"})
    rows = history_rows(api)
    changed = json.loads(GENERIC.read_bytes())
    changed["calls"][0]["probability"] = 0.5
    replay = post(api, json.dumps(changed).encode(), "application/json", **{"Idempotency-Key": "lims-0042-1"})
    assert replay.get_json() == keyed.get_json() and history_rows(api) == rows


def test_changed_submission_amends_the_report_and_keeps_history(api: Api) -> None:
    first = reports(post(api, GENERIC.read_bytes(), "application/json").get_json())[0]
    rid = first["entry"][0]["resource"]["id"]
    changed = json.loads(GENERIC.read_bytes())
    changed["calls"][0]["probability"] = 0.5
    second = reports(post(api, json.dumps(changed).encode(), "application/json").get_json())[0]
    assert second["entry"][0]["resource"]["id"] == rid
    amended = second["entry"][0]["resource"]
    assert (amended["status"], amended["meta"]["versionId"]) == ("amended", "2")
    h = api.client.get(f"/fhir/DiagnosticReport/{rid}/_history", headers=api.auth("reader"))
    assert h.status_code == 200
    hist = h.get_json()
    assert (hist["type"], hist["total"]) == ("history", 2)
    assert [(e["resource"]["meta"]["versionId"], e["resource"]["status"], e["request"]["method"],
             e["response"]["etag"]) for e in hist["entry"]] == [
        ("2", "amended", "PUT", 'W/"2"'), ("1", "final", "POST", 'W/"1"')]
    v1 = api.client.get(f"/fhir/DiagnosticReport/{rid}/_history/1", headers=api.auth("reader"))
    assert (v1.status_code, v1.headers["ETag"], v1.get_json()["status"]) == (200, 'W/"1"', "final")
    current = api.client.get(f"/fhir/DiagnosticReport/{rid}", headers=api.auth("reader"))
    assert (current.headers["ETag"], current.get_json()["status"]) == ('W/"2"', "amended")
    assert issue(api.client.get(f"/fhir/DiagnosticReport/{rid}/_history/3", headers=api.auth("reader"))) == (
        404, "not-found", f"DiagnosticReport/{rid} version 3 is not known")


def test_search_with_paging_links_that_round_trip(api: Api) -> None:
    got = reports(post(api, ALLSORTS.read_bytes(), "text/csv").get_json())
    ids = sorted(b["entry"][0]["resource"]["id"] for b in got)
    seen: list[str] = []
    url = "/fhir/DiagnosticReport?status=final&_count=3"
    pages = 0
    while url:
        r = api.client.get(url, headers=api.auth("report-reader"))
        assert r.status_code == 200
        page = r.get_json()
        assert (page["type"], page["total"]) == ("searchset", len(ids))
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert urlsplit(links["self"]).query.startswith("status=final&_count=3&_offset=")
        seen += [e["resource"]["id"] for e in page["entry"]]
        assert all(e["search"] == {"mode": "match"} and e["fullUrl"].endswith(e["resource"]["id"])
                   for e in page["entry"])
        nxt = links.get("next")
        url = urlsplit(nxt).path + "?" + urlsplit(nxt).query if nxt else ""
        pages += 1
    assert (seen, pages) == (ids, 2)
    report = got[0]["entry"][0]["resource"]
    ident = report["identifier"][0]
    one = api.client.get(f"/fhir/DiagnosticReport?identifier={ident['system']}|{ident['value']}",
                         headers=api.auth("reader")).get_json()
    assert [e["resource"]["id"] for e in one["entry"]] == [report["id"]]
    spec = report["specimen"][0]["identifier"]
    by_specimen = api.client.get(
        f"/fhir/DiagnosticReport?specimen:identifier={spec['system']}|{spec['value']}",
        headers=api.auth("reader")).get_json()
    assert [e["resource"]["id"] for e in by_specimen["entry"]] == [report["id"]]
    assert api.client.get("/fhir/DiagnosticReport?status=amended",
                          headers=api.auth("reader")).get_json()["total"] == 0


def test_observation_search_by_subject_code_and_value_concept(api: Api) -> None:
    got = reports(post(api, GENERIC.read_bytes(), "application/json",
                       query="?patient=Patient/p42").get_json())
    observations = [e["resource"] for e in got[0]["entry"] if e["resource"]["resourceType"] == "Observation"]
    subtype = next(o for o in observations if "valueCodeableConcept" in o)
    coding = subtype["valueCodeableConcept"]["coding"][0]
    r = api.client.get(
        f"/fhir/Observation?subject=Patient/p42&value-concept={coding['system']}|{coding['code']}",
        headers=api.auth("reader")).get_json()
    assert [e["resource"]["id"] for e in r["entry"]] == [subtype["id"]]
    code = subtype["code"]["coding"][0]
    r = api.client.get(f"/fhir/Observation?code={code['code']}&subject=Patient/p42",
                       headers=api.auth("reader")).get_json()
    assert subtype["id"] in [e["resource"]["id"] for e in r["entry"]]
    all_obs = api.client.get("/fhir/Observation?subject=Patient/p42&_count=100", headers=api.auth("reader"))
    assert all_obs.get_json()["total"] == len(observations)
    assert api.client.get("/fhir/Observation?subject=Patient/other", headers=api.auth("reader")
                          ).get_json()["total"] == 0


def test_partly_refused_input_is_200_with_an_outcome_part(api: Api) -> None:
    data = ALLSORTS.read_bytes().rstrip(b"\n") + b"\nBAD-1,No such subtype\n"
    r = post(api, data, "text/csv", query="?format=allsorts")
    assert r.status_code == 200
    body = r.get_json()
    assert [p["name"] for p in body["parameter"]] == ["report"] * 4 + ["outcome"]
    outcome = body["parameter"][-1]["resource"]
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["location"][0].startswith("upload.csv, line 6")


def test_errors_are_operation_outcomes_with_their_status(api: Api) -> None:
    reader = api.auth("reader")
    assert issue(api.client.get("/fhir/DiagnosticReport/nope")) == (
        401, "login", "credentials required: send an API key as 'Authorization: Bearer <key>' or "
        "'X-API-Key: <key>'")
    refused = api.client.get("/fhir/DiagnosticReport/nope")
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="allfhir"'
    assert issue(api.client.get("/fhir/DiagnosticReport/nope", headers={"Authorization": "Bearer afk_wrong"})
                 ) == (401, "login", "the API key is unknown or revoked")
    assert issue(api.client.get("/fhir/DiagnosticReport/nope", headers=api.auth("revoked"))) == (
        401, "login", "the API key is unknown or revoked")
    assert issue(post(api, b"x", "text/csv", key="reader"))[:2] == (403, "forbidden")
    assert "needs system/DiagnosticReport.c" in issue(post(api, b"x", "text/csv", key="reader"))[2]
    assert issue(api.client.get("/fhir/Observation/x", headers=api.auth("report-reader"))) == (
        403, "forbidden", "the API key 'report-reader' lacks the scope for this request: needs "
        "system/Observation.r")
    assert issue(api.client.get("/fhir/DiagnosticReport/nope", headers=reader)) == (
        404, "not-found", "DiagnosticReport/nope is not known")
    assert issue(api.client.get("/fhir/Patient/p1", headers=reader))[:2] == (404, "not-supported")
    assert issue(api.client.get("/fhir/DiagnosticReport/a_b", headers=reader)) == (
        400, "value", "'a_b' is not a FHIR id")
    assert issue(api.client.delete("/fhir/DiagnosticReport/x", headers=reader)) == (
        405, "not-supported", "method not allowed here")
    assert issue(api.client.get("/fhir/metadata?_format=xml")) == (
        406, "not-supported",
        "_format 'xml' is not supported: this server speaks FHIR JSON only (_format=json)")
    assert issue(api.client.get("/fhir/metadata", headers={"Accept": "application/fhir+xml"}))[:2] == (
        406, "not-supported")
    assert issue(post(api, b"x" * (LIMIT + 1), "text/csv"))[:2] == (413, "too-costly")
    assert issue(post(api, b"<x/>", "application/xml")) == (
        415, "not-supported", "cannot convert a 'application/xml' body: send text/csv, "
        "text/tab-separated-values, application/json, multipart/form-data or a Parameters resource "
        "(application/fhir+json)")
    assert issue(post(api, b"", "text/csv")) == (400, "required", "the request body is empty")
    assert issue(post(api, b"a,b\n", "text/csv", query="?bundle-type=batch")) == (
        400, "value", "bundle-type 'batch' is not one of: collection, transaction")
    assert issue(api.client.get("/fhir/DiagnosticReport?_count=1000", headers=reader)) == (
        400, "value", "_count must be a whole number from 0 to 100")
    assert issue(api.client.get("/fhir/DiagnosticReport?performer=x", headers=reader))[:2] == (
        400, "not-supported")
    code, kind, text = issue(post(api, b"a,b\n1,2\n", "text/csv"))
    assert (code, kind) == (422, "not-supported")
    assert text.startswith("upload.csv, line 1: format not recognised")


def test_unprocessable_input_names_file_line_and_column(api: Api) -> None:
    r = post(api, b",Prediction\nS1,Nonsense\n", "text/csv", query="?format=allsorts")
    assert r.status_code == 422
    (only,) = r.get_json()["issue"]
    assert (only["code"], only["location"]) == ("code-invalid", ["upload.csv, line 2, column 'Prediction'"])
    assert only["diagnostics"].startswith("upload.csv, line 2, column 'Prediction': unknown ALLSorts label "
                                          "'Nonsense'; known labels: BCL2/MYC, DUX4,")
    files = {"classifier": (io.BytesIO(b",Prediction\nS1,Nonsense\n"), "lab-run-7.csv")}
    r = api.client.post("/fhir/$convert?format=allsorts", data=files, content_type="multipart/form-data",
                        headers=api.auth())
    assert r.status_code == 422
    assert r.get_json()["issue"][0]["location"] == ["lab-run-7.csv, line 2, column 'Prediction'"]


def test_x_api_key_header_and_audit_events(api: Api) -> None:
    got = reports(post(api, GENERIC.read_bytes(), "application/json").get_json())
    rid = got[0]["entry"][0]["resource"]["id"]
    r = api.client.get(f"/fhir/DiagnosticReport/{rid}", headers={"X-API-Key": api.keys["reader"]})
    assert r.status_code == 200
    api.client.get(f"/fhir/DiagnosticReport/{rid}")  # refused: audited as anonymous
    api.client.get("/fhir/DiagnosticReport?status=final", headers=api.auth("reader"))
    events = audit.recent(api.store)
    summary = [(e["subtype"][0]["code"], e["action"], e["outcome"], e["agent"][0]["who"]["display"],
                [x.get("what", {}).get("reference") for x in e.get("entity", [])]) for e in reversed(events)]
    assert summary == [
        ("operation", "E", "0", "writer", [f"DiagnosticReport/{rid}"]),
        ("read", "R", "0", "reader", [f"DiagnosticReport/{rid}"]),
        ("read", "R", "4", "anonymous", []),
        ("search-type", "E", "0", "reader", [None]),
    ]
    assert all(e["type"]["code"] == "rest" and e["recorded"].endswith("Z") for e in events)


def test_include_results_and_summary_count(api: Api) -> None:
    (bundle,) = reports(post(api, GENERIC.read_bytes(), "application/json").get_json())
    report = bundle["entry"][0]["resource"]
    result_ids = [r["reference"].removeprefix("urn:uuid:") for r in report["result"]]
    r = api.client.get(f"/fhir/DiagnosticReport?identifier={report['identifier'][0]['value']}"
                       "&_include=DiagnosticReport:result", headers=api.auth("reader"))
    page = r.get_json()
    got = [(e["resource"]["resourceType"], e["resource"]["id"], e["search"]["mode"]) for e in page["entry"]]
    assert got == [("DiagnosticReport", report["id"], "match"),
                   *[("Observation", i, "include") for i in result_ids]]
    assert page["total"] == 1  # included resources are not counted
    refused = api.client.get("/fhir/DiagnosticReport?_include=DiagnosticReport:result",
                             headers=api.auth("report-reader"))
    assert issue(refused) == (403, "forbidden", "the API key 'report-reader' lacks the scope for the "
                              "included resources: needs system/Observation.r")
    assert issue(api.client.get("/fhir/DiagnosticReport?_include=DiagnosticReport:subject",
                                headers=api.auth("reader"))) == (
        400, "not-supported", "_include 'DiagnosticReport:subject' is not supported; supported: "
        "DiagnosticReport:result")
    counted = api.client.get("/fhir/DiagnosticReport?_summary=count", headers=api.auth("reader")).get_json()
    assert (counted["total"], "entry" in counted) == (1, False)
    assert issue(api.client.get("/fhir/DiagnosticReport?_summary=true", headers=api.auth("reader")))[:2] == (
        400, "not-supported")
    cs = api.client.get("/fhir/metadata").get_json()
    assert cs["rest"][0]["resource"][0]["searchInclude"] == ["DiagnosticReport:result"]
