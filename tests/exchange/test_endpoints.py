"""Endpoints as delivery destinations: the API (create, read, search, delete; Endpoint scopes by
name; secrets never served; what is wrong with a bad one), the filter, and `allfhir endpoint`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allfhir.cli import main
from allfhir.exchange import endpoints as resources
from allfhir.store import endpoints, jobs
from tests.api.conftest import Api
from tests.api.test_fhir_rest import EXAMPLE, pipeline_ids
from tests.exchange.conftest import add_endpoint
from tests.exchange.test_deliver_medplum import convert_example

EXT = "https://allfhir.org/fhir/StructureDefinition/endpoint-delivery"
CODES = "https://allfhir.org/fhir/CodeSystem/allfhir-codes"


def oauth_endpoint() -> dict:
    return resources.resource("https://ehr.example/fhir", "genomic-report-transaction", name="EHR",
                              auth="oauth2-client-credentials", secret="s3cret",
                              token_url="https://ehr.example/token", client_id="lab",
                              scope="system/*.write", read_timeout=10)


def test_create_read_search_delete_and_the_secret_is_never_served(api: Api) -> None:
    r = api.client.post("/fhir/Endpoint", json=oauth_endpoint(), headers=api.auth("admin"))
    assert r.status_code == 201, r.get_data(as_text=True)
    created = r.get_json()
    eid = created["id"]
    assert r.headers["Location"] == f"http://localhost/fhir/Endpoint/{eid}/_history/1"
    assert created == {
        "resourceType": "Endpoint", "id": eid,
        "meta": {"versionId": "1", "lastUpdated": created["meta"]["lastUpdated"]},
        "extension": [{"url": EXT, "extension": [
            {"url": "auth", "valueCode": "oauth2-client-credentials"},
            {"url": "token-url", "valueUrl": "https://ehr.example/token"},
            {"url": "client-id", "valueString": "lab"},
            {"url": "scope", "valueString": "system/*.write"},
            {"url": "read-timeout", "valueDecimal": 10}]}],
        "status": "active",
        "connectionType": {"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
                           "code": "hl7-fhir-rest"},
        "name": "EHR",
        "payloadType": [{"coding": [{"system": CODES, "code": "genomic-report-transaction",
                                     "display": "Genomic report as a FHIR transaction"}]}],
        "payloadMimeType": ["application/fhir+json"],
        "address": "https://ehr.example/fhir",
    }
    assert "s3cret" not in r.get_data(as_text=True)
    assert endpoints.get(api.store, eid).secret == "s3cret"  # kept apart, for the worker
    read = api.client.get(f"/fhir/Endpoint/{eid}", headers=api.auth("admin"))
    assert (read.status_code, read.get_json()) == (200, created)
    found = api.client.get("/fhir/Endpoint", headers=api.auth("admin")).get_json()
    assert (found["type"], found["total"]) == ("searchset", 1)
    assert [e["resource"] for e in found["entry"]] == [created]
    assert api.client.get("/fhir/Endpoint?status=off", headers=api.auth("admin")).get_json()["total"] == 0
    assert "s3cret" not in json.dumps(found)
    assert api.client.delete(f"/fhir/Endpoint/{eid}", headers=api.auth("admin")).status_code == 204
    gone = api.client.get(f"/fhir/Endpoint/{eid}", headers=api.auth("admin"))
    assert gone.status_code == 404
    assert gone.get_json()["issue"][0]["diagnostics"] == f"Endpoint/{eid} is not known"


@pytest.mark.parametrize(("method", "path", "letter"), [
    ("post", "/fhir/Endpoint", "c"), ("get", "/fhir/Endpoint", "s"),
    ("get", "/fhir/Endpoint/x", "r"), ("delete", "/fhir/Endpoint/x", "d")])
def test_a_wildcard_writer_does_not_manage_endpoints(api: Api, method: str, path: str, letter: str) -> None:
    r = getattr(api.client, method)(path, json=oauth_endpoint(), headers=api.auth("writer"))
    assert r.status_code == 403
    assert r.get_json()["issue"][0]["diagnostics"] == (
        f"the API key 'writer' lacks the scope for this request: needs system/Endpoint.{letter} by "
        "name (a wildcard type does not manage delivery destinations)")


def problems(api: Api, resource: dict) -> tuple[int, list[str]]:
    r = api.client.post("/fhir/Endpoint", json=resource, headers=api.auth("admin"))
    return r.status_code, [i["diagnostics"] for i in r.get_json()["issue"]]


def test_an_endpoint_body_that_is_not_json_is_400_and_stores_nothing(api: Api) -> None:
    r = api.client.post("/fhir/Endpoint", data=b"[1, 2", headers={
        **api.auth("admin"), "Content-Type": "application/fhir+json"})
    assert (r.status_code, r.get_json()["issue"][0]["diagnostics"]) == (
        400, "the body is not JSON: Expecting ',' delimiter: line 1 column 6 (char 5)")
    assert api.client.get("/fhir/Endpoint", headers=api.auth("admin")).get_json()["total"] == 0


def test_what_is_wrong_with_an_endpoint_is_said_all_at_once(api: Api) -> None:
    bad = resources.resource("ftp://ehr.example/fhir", "genomic-report-transaction",
                             auth="oauth2-client-credentials", filter="Patient?name=x")
    bad["connectionType"]["code"] = "hl7-fhir-msg"
    assert problems(api, bad) == (422, [
        "Endpoint.address 'ftp://ehr.example/fhir' is not a http or https URL",
        "Endpoint.connectionType must be http://terminology.hl7.org/CodeSystem/endpoint-connection-type"
        "#hl7-fhir-rest for payload type genomic-report-transaction",
        "endpoint-delivery auth 'oauth2-client-credentials' needs its secret",
        "endpoint-delivery auth 'oauth2-client-credentials' needs token-url",
        "endpoint-delivery auth 'oauth2-client-credentials' needs client-id",
        "filter 'Patient?name=x': reports can be filtered on DiagnosticReport or Observation"])
    unknown = resources.resource("https://ehr.example/fhir", "genomic-report-oru")
    assert problems(api, unknown) == (422, [
        "Endpoint.payloadType names no payload this service sends; one of: "
        f"{CODES}#genomic-report-transaction, {CODES}#genomic-report-message, "
        f"{CODES}#genomic-report-hl7v2"])
    assert problems(api, {"resourceType": "Endpoint", "status": "active", "address": "https://x"}) == (422, [
        "Endpoint.connectionType: Field required", "Endpoint.payloadType: Field required"])
    assert problems(api, resources.resource("https://x/fhir", "genomic-report-message",
                                            filter="DiagnosticReport?colour=red")) == (422, [
        "filter 'DiagnosticReport?colour=red': DiagnosticReport has no parameter 'colour' here; known: "
        "based-on, based-on:identifier, code, identifier, specimen, specimen:identifier, status, subject, "
        "subject:identifier"])
    slow = resources.resource("https://x/fhir", "genomic-report-message", connect_timeout=0,
                              read_timeout=601)
    assert problems(api, slow) == (422, [
        f"endpoint-delivery {name} must be a decimal above 0 and at most 600 seconds"
        for name in ("connect-timeout", "read-timeout")])
    assert problems(api, {"resourceType": "Patient"}) == (422, ["the body is not an Endpoint resource"])


def test_each_stored_report_is_queued_once_per_matching_endpoint(api: Api) -> None:
    everything = add_endpoint(api, "https://ehr.example/fhir")
    ph_only = add_endpoint(api, "https://registry.example/fhir", "genomic-report-message", filter=(
        "DiagnosticReport?identifier=https://allfhir.org/fhir/NamingSystem/report-id|allsorts:SJBALL043684,"
        "https://allfhir.org/fhir/NamingSystem/report-id|allsorts:nobody"))
    add_endpoint(api, "https://off.example/fhir", status="off")
    bundles = convert_example(api)
    queued = [(j.payload["report"], j.payload["endpoint"], j.state)
              for j in jobs.of_kind(api.store, "deliver")]
    reports = [f"DiagnosticReport/{b['entry'][0]['resource']['id']}" for b in bundles]
    assert queued == [(reports[0], everything, "queued"), (reports[0], ph_only, "queued"),
                      (reports[1], everything, "queued"), (reports[2], everything, "queued")]
    convert_example(api)  # the same submission again: stored once, queued once
    assert len(jobs.of_kind(api.store, "deliver")) == 4


def test_an_asynchronous_conversion_queues_its_deliveries_too(api: Api) -> None:
    from allfhir.worker import Worker

    endpoint = add_endpoint(api, "https://ehr.example/fhir")
    r = api.client.post("/fhir/$convert", data=EXAMPLE.read_bytes(), content_type="text/csv",
                        headers={**api.auth("writer"), "Prefer": "respond-async"})
    assert r.status_code == 202
    assert jobs.of_kind(api.store, "deliver") == []
    converter = Worker(api.app.extensions["allfhir.settings"], ["convert"])
    assert converter.run_once()
    converter.store.dispose()
    assert [(j.payload["endpoint"], j.payload["report"]) for j in jobs.of_kind(api.store, "deliver")] == [
        (endpoint, f"DiagnosticReport/{ids[0]}") for ids in pipeline_ids(EXAMPLE)]


def test_the_cli_adds_lists_and_removes(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ALLFHIR_DATABASE_URL", api.app.extensions["allfhir.settings"].database_url)
    secret = tmp_path / "key"
    secret.write_text("k-123\n")
    assert main(["endpoint", "add", "https://ehr.example/fhir", "--payload", "message", "--name", "EHR",
                 "--auth", "api-key", "--secret-file", str(secret),
                 "--filter", "DiagnosticReport?status=final"]) == 0
    out = capsys.readouterr().out.strip()
    ref, payload, address = out.split("\t")
    eid = ref.removeprefix("Endpoint/")
    assert (payload, address) == ("message", "https://ehr.example/fhir")
    assert endpoints.get(api.store, eid).secret == "k-123"
    assert main(["endpoint", "list"]) == 0
    assert capsys.readouterr().out == (f"{eid}\tactive\tmessage\thttps://ehr.example/fhir\tapi-key\t"
                                       "DiagnosticReport?status=final\tEHR\n")
    assert main(["endpoint", "add", "https://ehr.example/fhir", "--auth", "api-key"]) == 2
    outcome = json.loads(capsys.readouterr().err)
    assert [i["diagnostics"] for i in outcome["issue"]] == [
        "endpoint-delivery auth 'api-key' needs its secret"]
    assert main(["endpoint", "remove", ref]) == 0
    assert capsys.readouterr().out == f"removed {ref}\n"
    assert main(["endpoint", "remove", ref]) == 2
    assert capsys.readouterr().err == f"no Endpoint '{ref}'\n"
