"""/metrics and /openapi.json through the test client: exact counter values after known
requests, and an OpenAPI document that lists exactly the app's routes."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import Api
from tests.conftest import DATA

ALLSORTS = DATA / "classifiers" / "allsorts-predictions.csv"


def samples(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = api.client.get("/metrics")
    assert r.status_code == 200 and r.content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.get_data(as_text=True))
            for s in family.samples}


def test_metrics_count_requests_conversions_and_refusals(api: Api) -> None:
    csv = {**api.auth(), "Content-Type": "text/csv"}
    assert api.client.post("/fhir/$convert", data=ALLSORTS.read_bytes(), headers=csv).status_code == 200
    assert api.client.post("/fhir/$convert", data=ALLSORTS.read_bytes(), headers=csv).status_code == 200
    refused = api.client.post("/fhir/$convert", data=b"sample,nothing\nS1,x\n", headers=csv)
    assert refused.status_code == 422
    assert api.client.get("/fhir/DiagnosticReport/nope", headers=api.auth()).status_code == 404
    partly = ALLSORTS.read_bytes().rstrip(b"\n") + b"\nBAD-1,No such subtype\n"
    assert api.client.post("/fhir/$convert?format=allsorts", data=partly, headers=csv).status_code == 200
    got = samples(api)
    route = "/fhir/$convert"
    total = "allfhir_http_requests_total"
    assert got[(total, (("method", "POST"), ("route", route), ("status", "200")))] == 3
    assert got[(total, (("method", "POST"), ("route", route), ("status", "422")))] == 1
    assert got[("allfhir_http_requests_total", (("method", "GET"), ("route", "/fhir/<rtype>/<rid>"),
                                                ("status", "404")))] == 1
    assert got[("allfhir_http_request_duration_seconds_count", (("method", "POST"), ("route", route)))] == 4
    # the second post is a resubmission: answered from the store, nothing converted again; the
    # last one converts four samples and refuses one row
    assert got[("allfhir_conversions_total", (("stored", "new"),))] == 8
    assert got[("allfhir_conversions_total", (("stored", "resubmission"),))] == 4
    assert got[("allfhir_refusals_total", (("kind", "request"),))] == 1
    assert got[("allfhir_refusals_total", (("kind", "row"),))] == 1


def test_openapi_lists_every_route(api: Api) -> None:
    r = api.client.get("/openapi.json")  # no credentials needed
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"] == "3.0.3"
    rules = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), m.lower())
             for rule in api.app.url_map.iter_rules()
             if rule.endpoint != "static" and not rule.endpoint.startswith("web.")
             for m in rule.methods - {"HEAD", "OPTIONS"}}
    listed = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert listed == rules
    assert {"/fhir/$convert", "/fhir/$validate", "/fhir/ConceptMap/$translate",
            "/fhir/CodeSystem/$lookup", "/metrics", "/openapi.json"} <= set(doc["paths"])
    ops = doc["paths"]
    assert ops["/fhir/metadata"]["get"]["security"] == []
    assert ops["/metrics"]["get"]["security"] == []
    assert ops["/fhir/{rtype}/{rid}"]["get"]["security"] == [{"bearer": []}, {"apiKey": []}]
    assert ops["/fhir/{rtype}/{rid}"]["get"]["summary"] == "Read the current version of a stored resource."
    assert [p["name"] for p in ops["/fhir/{rtype}/{rid}"]["get"]["parameters"]] == [
        "rtype", "rid", "_format", "_pretty"]
    assert [p["name"] for p in ops["/fhir/ValueSet"]["get"]["parameters"]] == [
        "_format", "_pretty", "url"]
    assert sorted(ops["/fhir/$convert"]["post"]["requestBody"]["content"]) == [
        "application/fhir+json", "application/json", "multipart/form-data", "text/csv",
        "text/tab-separated-values"]
