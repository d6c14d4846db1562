"""The REST additions through a real `allfhir serve` on 127.0.0.1 (requests, SQLite and
PostgreSQL): a Parameters body, NDJSON streamed over the socket, If-Match, the audit log."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import requests

from tests.api.test_convert_parameters import attachment, parameters
from tests.api.test_fhir_rest import pipeline_ids
from tests.api.test_server import ARRIBA, EXAMPLE, Server, server  # noqa: F401 (the fixture)


def test_served_parameters_body_and_ndjson(server: Server) -> None:  # noqa: F811
    body = parameters(attachment(EXAMPLE, "text/csv"), attachment(ARRIBA, "text/tab-separated-values"),
                      {"name": "order", "valueIdentifier": {"system": "urn:oid:1.2.3", "value": "O-1"}})
    r = requests.post(f"{server.url}/fhir/$convert", data=body, timeout=60,
                      headers=server.headers(**{"Content-Type": "application/fhir+json"}))
    assert r.status_code == 200
    got = [p["resource"] for p in r.json()["parameter"] if p["name"] == "report"]
    assert [[e["resource"]["id"] for e in b["entry"]] for b in got] == pipeline_ids(EXAMPLE, ARRIBA)
    assert {json.dumps(b["entry"][0]["resource"]["basedOn"]) for b in got} == {json.dumps(
        [{"type": "ServiceRequest", "identifier": {"system": "urn:oid:1.2.3", "value": "O-1"}}])}
    with requests.post(f"{server.url}/fhir/$convert", data=body, timeout=60, stream=True,
                       headers=server.headers(**{"Content-Type": "application/fhir+json",
                                                 "Accept": "application/fhir+ndjson"})) as streamed:
        assert (streamed.status_code, streamed.headers["Content-Type"]) == (200, "application/fhir+ndjson")
        lines = [json.loads(line) for line in streamed.iter_lines() if line]
    assert lines == got  # the resubmission answers the stored reports, one per line


def test_served_if_match_and_audit_log(server: Server) -> None:  # noqa: F811
    doc = {"sample_id": "SRV-1", "calls": [{"label": "high-hyperdiploid", "probability": 0.8}]}

    def submit(probability: float, etag: str) -> requests.Response:
        doc["calls"][0]["probability"] = probability
        return requests.post(f"{server.url}/fhir/$convert", data=json.dumps(doc), timeout=60,
                             headers=server.headers(**{"Content-Type": "application/json",
                                                       "If-Match": etag}))

    first = requests.post(f"{server.url}/fhir/$convert", data=json.dumps(doc), timeout=60,
                          headers=server.headers(**{"Content-Type": "application/json"})).json()
    rid = first["parameter"][0]["resource"]["entry"][0]["resource"]["id"]
    assert submit(0.7, 'W/"1"').status_code == 200
    stale = submit(0.6, 'W/"1"')
    assert (stale.status_code, stale.json()["issue"][0]["code"]) == (412, "conflict")

    env = {**os.environ, "ALLFHIR_DATABASE_URL": server.database_url}
    admin = subprocess.run([sys.executable, "-m", "allfhir", "apikey", "create", f"audit-{rid[:8]}",
                            "--scope", "system/AuditEvent.rs"], env=env, check=True,
                           capture_output=True, text=True).stdout.splitlines()[-1]
    found = requests.get(f"{server.url}/fhir/AuditEvent", timeout=10,
                         params={"entity": f"DiagnosticReport/{rid}", "agent": "lims"},
                         headers={"Authorization": f"Bearer {admin}"})
    assert found.status_code == 200
    # the first conversion and the amendment; the refused one touched no report
    assert [(e["resource"]["subtype"][0]["code"], e["resource"]["outcome"])
            for e in found.json()["entry"]] == [("operation", "0"), ("operation", "0")]
    refused = requests.get(f"{server.url}/fhir/AuditEvent", timeout=10, headers=server.headers())
    assert refused.status_code == 403
