"""`$convert` with a FHIR Parameters body, the `specimen` and `order` parameters (API and CLI
agree), and NDJSON out; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json

import pytest

from allfhir import codes
from allfhir.cli import main
from tests.api.conftest import Api
from tests.api.test_fhir_rest import ARRIBA, EXAMPLE, GENERIC, issue, pipeline_ids, post, reports

ORDER = {"system": "urn:oid:1.2.276.0.76.4.17", "value": "ORD-2026-0042"}
BASED_ON = [{"type": "ServiceRequest", "identifier": ORDER}]
SPECIMEN = {"identifier": {"system": "urn:oid:1.2.276.0.76.4.18", "value": "BM-0042"}}


def attachment(path, content_type: str) -> dict:
    return {"name": "file", "valueAttachment": {
        "contentType": content_type, "title": path.name,
        "data": base64.b64encode(path.read_bytes()).decode()}}


def parameters(*parts: dict) -> bytes:
    return json.dumps({"resourceType": "Parameters", "parameter": list(parts)}).encode()


def test_parameters_body_converts_like_multipart(api: Api) -> None:
    body = parameters(attachment(EXAMPLE, "text/csv"),
                      attachment(ARRIBA, "text/tab-separated-values"))
    r = post(api, body, "application/fhir+json")
    assert r.status_code == 200
    got = reports(r.get_json())
    assert [[e["resource"]["id"] for e in b["entry"]] for b in got] == pipeline_ids(EXAMPLE, ARRIBA)
    report = next(b for b in got if "SJBALL043684" in json.dumps(b["entry"][0]["resource"]["identifier"]))
    assert "BCR::ABL1" in json.dumps(report)  # the companion attachment was converted too
    # FHIR sent with the plain JSON type is a Parameters body too (the same submission)
    plain = post(api, body, "application/json")
    assert (plain.status_code, reports(plain.get_json())) == (200, got)


def test_parameters_carry_every_conversion_parameter(api: Api) -> None:
    body = parameters(
        attachment(GENERIC, "application/json"),
        {"name": "patient", "valueReference": {"reference": "Patient/p42"}},
        {"name": "sample", "valueString": "LAB-0042"},
        {"name": "specimen", "valueReference": SPECIMEN},
        {"name": "order", "valueIdentifier": ORDER},
        {"name": "bundle-type", "valueCode": "transaction"},
        {"name": "actionability", "valueBoolean": False})
    r = post(api, body, "application/fhir+json")
    assert r.status_code == 200
    (bundle,) = reports(r.get_json())
    assert bundle["type"] == "transaction"
    resources = [e["resource"] for e in bundle["entry"]]
    report = resources[0]
    assert (report["subject"], report["specimen"], report["basedOn"]) == (
        {"reference": "Patient/p42"}, [SPECIMEN], BASED_ON)
    observations = [x for x in resources if x["resourceType"] == "Observation"]
    assert observations and all((o["specimen"], o["basedOn"]) == (SPECIMEN, BASED_ON)
                                for o in observations)
    assert not [x for x in resources if x["resourceType"] in ("Task", "ResearchStudy")]
    # the same conversion in the query string answers the same stored report
    query = (f"?patient=Patient/p42&sample=LAB-0042&specimen={SPECIMEN['identifier']['system']}|BM-0042"
             f"&order={ORDER['system']}|{ORDER['value']}&bundle-type=transaction&actionability=false")
    again = post(api, GENERIC.read_bytes(), "application/json", query=query)
    assert reports(again.get_json())[0]["entry"][0]["resource"] == report


def test_order_and_specimen_are_searchable(api: Api) -> None:
    r = post(api, GENERIC.read_bytes(), "application/json",
             query="?order=ORD-7&specimen=Specimen/bm-7")
    report = reports(r.get_json())[0]["entry"][0]["resource"]
    # a bare order number is a value in the lab's order system (ALLFHIR_ORDER_ID_SYSTEM)
    assert report["basedOn"] == [{"type": "ServiceRequest",
                                  "identifier": {"system": codes.NS_ORDER_ID, "value": "ORD-7"}}]
    assert report["specimen"] == [{"reference": "Specimen/bm-7"}]

    def found(query: str, rtype: str = "DiagnosticReport") -> list[str]:
        page = api.client.get(f"/fhir/{rtype}?{query}", headers=api.auth("reader")).get_json()
        return [e["resource"]["id"] for e in page.get("entry", [])]

    assert found(f"based-on:identifier={codes.NS_ORDER_ID}|ORD-7") == [report["id"]]
    assert found("based-on:identifier=ORD-7") == [report["id"]]
    assert found("based-on:identifier=ORD-8") == []
    assert found("specimen=Specimen/bm-7") == [report["id"]]
    observations = sorted(ref["reference"].removeprefix("urn:uuid:") for ref in report["result"])
    assert sorted(found("based-on:identifier=ORD-7", "Observation")) == observations


def test_ndjson_streams_the_report_bundles(api: Api) -> None:
    r = post(api, EXAMPLE.read_bytes(), "text/csv", Accept="application/fhir+ndjson")
    assert (r.status_code, r.content_type) == (200, "application/fhir+ndjson")
    lines = r.get_data().splitlines()
    json_body = post(api, EXAMPLE.read_bytes(), "text/csv").get_json()  # the stored answer
    assert [json.loads(line) for line in lines] == reports(json_body)
    assert [[e["resource"]["id"] for e in json.loads(line)["entry"]] for line in lines] == \
        pipeline_ids(EXAMPLE)
    # other routes still speak FHIR JSON only
    assert issue(api.client.get("/fhir/metadata", headers={"Accept": "application/fhir+ndjson"}))[:2] == (
        406, "not-supported")


def test_cli_and_api_agree_on_specimen_and_order(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(GENERIC), "--specimen", "Specimen/bm-7", "--order",
                 f"{ORDER['system']}|{ORDER['value']}"]) == 0
    (cli_bundle,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    r = post(api, GENERIC.read_bytes(), "application/json",
             query=f"?specimen=Specimen/bm-7&order={ORDER['system']}|{ORDER['value']}")
    (api_bundle,) = reports(r.get_json())
    strip = [{k: v for k, v in e["resource"].items() if k != "meta"} for e in cli_bundle["entry"]]
    assert [{k: v for k, v in e["resource"].items() if k != "meta"} for e in api_bundle["entry"]] == strip
    assert api_bundle["entry"][0]["resource"]["basedOn"] == BASED_ON
    assert main(["convert", str(GENERIC), "--specimen", "bm-7", "--effective", "2026-02-30"]) == 2
    err = json.loads(capsys.readouterr().err)
    assert [i["diagnostics"] for i in err["issue"]] == [
        "--specimen 'bm-7' is neither 'Specimen/<id>' nor 'system|value'",
        "--effective '2026-02-30' is not a FHIR dateTime (e.g. 2026-11-25 or 2026-11-25T10:00:00Z)"]


def test_refused_parameters(api: Api) -> None:
    csv = attachment(EXAMPLE, "text/csv")
    cases = [
        (post(api, json.dumps({"resourceType": "Patient"}).encode(), "application/fhir+json"),
         (400, "structure", "a FHIR body to $convert is a Parameters resource with 'file' "
          "parameters (valueAttachment)")),
        (post(api, parameters({"name": "sample", "valueString": "S1"}), "application/fhir+json"),
         (400, "required", "the Parameters carry no 'file' parameter: send the classifier file "
          "(and its companion files) as valueAttachment data")),
        (post(api, parameters({"name": "file", "valueAttachment": {"url": "https://lims/x.csv"}}),
              "application/fhir+json"),
         (400, "required", "a 'file' parameter is a valueAttachment with the file's content as "
          "base64 'data' (a 'url' is not fetched)")),
        (post(api, parameters({"name": "file", "valueAttachment": {"title": "p.csv", "data": "%%"}}),
              "application/fhir+json"),
         (400, "value", "the data of file 'p.csv' is not base64")),
        (post(api, parameters(csv, {"name": "colour", "valueString": "red"}), "application/fhir+json"),
         (400, "not-supported", "unknown $convert parameter 'colour'; known: file, format, patient, "
          "sample, specimen, order, effective, bundle-type, actionability, presented-form, "
          "assembly")),
        (post(api, parameters(csv, {"name": "actionability", "valueString": "no"}),
              "application/fhir+json"),
         (400, "value", "parameter 'actionability' takes valueBoolean")),
        (post(api, parameters(csv, {"name": "sample", "valueString": "A"},
                              {"name": "sample", "valueString": "B"}), "application/fhir+json"),
         (400, "value", "parameter 'sample' is given twice")),
        (post(api, parameters(csv, {"name": "sample", "valueString": "A"}), "application/fhir+json",
              query="?sample=B"),
         (400, "value", "parameter 'sample' is given both in the query and in the Parameters body: "
          "give it once")),
        (post(api, EXAMPLE.read_bytes(), "text/csv", query="?specimen=bm-7"),
         (400, "value", "specimen 'bm-7' is neither 'Specimen/<id>' nor 'system|value'")),
        (post(api, EXAMPLE.read_bytes(), "text/csv", query="?order=urn:oid:1.2|"),
         (400, "value", "order 'urn:oid:1.2|' has no identifier value")),
        (post(api, b"{not json", "application/fhir+json"),
         (400, "invalid", "the body is not JSON: Expecting property name enclosed in double "
          "quotes: line 1 column 2 (char 1)")),
        # the parser recurses: a body nested this deep is refused, not a 500
        (post(api, b'{"resourceType":"Parameters","parameter":' + b"[" * 5000 + b"]" * 5000 + b"}",
              "application/fhir+json"),
         (400, "invalid", "the body nests JSON arrays and objects too deeply to be read")),
        (post(api, b'{"samples":' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
         (422, "structure", "upload.json, line 1: arrays and objects nested too deeply to be read")),
    ]
    assert [issue(r) for r, _ in cases] == [want for _, want in cases]


def _changed(probability: float) -> bytes:
    doc = json.loads(GENERIC.read_bytes())
    doc["calls"][0]["probability"] = probability
    return json.dumps(doc).encode()


def test_if_match_guards_the_amended_report(api: Api) -> None:
    first = reports(post(api, GENERIC.read_bytes(), "application/json").get_json())[0]
    rid = first["entry"][0]["resource"]["id"]
    etag = api.client.get(f"/fhir/DiagnosticReport/{rid}", headers=api.auth("reader")).headers["ETag"]
    assert etag == 'W/"1"'
    amended = post(api, _changed(0.5), "application/json", **{"If-Match": etag})
    assert amended.status_code == 200
    assert reports(amended.get_json())[0]["entry"][0]["resource"]["meta"]["versionId"] == "2"
    # a client that read version 1 and changes the report again is told it is stale
    stale = post(api, _changed(0.6), "application/json", **{"If-Match": 'W/"1"'})
    assert issue(stale) == (412, "conflict", f"If-Match: DiagnosticReport/{rid} is at version 2, "
                            "not 1: read it again and resubmit against the current version")
    current = api.client.get(f"/fhir/DiagnosticReport/{rid}", headers=api.auth("reader"))
    assert current.headers["ETag"] == 'W/"2"'
    # replaying what was stored writes nothing, so there is nothing to guard
    assert post(api, _changed(0.5), "application/json", **{"If-Match": 'W/"1"'}).status_code == 200
    assert post(api, _changed(0.6), "application/json", **{"If-Match": "*"}).status_code == 200
    new = post(api, EXAMPLE.read_bytes(), "text/csv", **{"If-Match": "*"})
    assert issue(new)[:2] == (412, "conflict")
    assert issue(post(api, _changed(0.7), "application/json", **{"If-Match": "version 3"})) == (
        400, "value", "If-Match 'version 3' is not an ETag of this server (W/\"<versionId>\") or *")


def test_a_report_moved_to_another_patient_is_a_conflict(api: Api) -> None:
    first = reports(post(api, GENERIC.read_bytes(), "application/json",
                         query="?patient=Patient/p42").get_json())[0]
    report = first["entry"][0]["resource"]
    moved = post(api, _changed(0.5), "application/json", query="?patient=Patient/p43")
    assert issue(moved) == (409, "conflict", f"DiagnosticReport/{report['id']} (report "
                            "findings:LAB-0042) is stored for another patient: the same "
                            "sample reported for two patients is a mix-up to resolve in the LIMS, "
                            "not an amendment")
    stored = api.client.get(f"/fhir/DiagnosticReport/{report['id']}", headers=api.auth("reader"))
    assert (stored.headers["ETag"], stored.get_json()["subject"]) == ('W/"1"', {"reference": "Patient/p42"})
