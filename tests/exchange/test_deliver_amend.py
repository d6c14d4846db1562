"""An amended report reaches the receiver (the Medplum FHIR engine peer): version 1 goes as
conditional creates, the resources version 2 changed as conditional updates on their
identifiers, so the receiver ends with the amended DiagnosticReport, once, and no duplicates."""

from __future__ import annotations

from collections import Counter

from allfhir.store import jobs
from tests.api.conftest import Api
from tests.api.test_fhir_rest import EXAMPLE, reports
from tests.exchange.conftest import Peer, add_endpoint, run_due
from tests.exchange.test_deliver_medplum import identifier, on_peer

FIRST = EXAMPLE.read_text().splitlines()[:2]  # the header and SJBALL043684 (Ph 0.932)


def submit(api: Api, csv: str) -> dict:
    r = api.client.post("/fhir/$convert?format=allsorts", data=csv.encode(),
                        content_type="text/csv", headers=api.auth("writer"))
    assert r.status_code == 200, r.get_data(as_text=True)
    (bundle,) = reports(r.get_json())
    return bundle


def test_an_amended_report_replaces_the_receivers_copy_once(api: Api, medplum: Peer) -> None:
    endpoint = add_endpoint(api, medplum.url)
    first = submit(api, "\n".join(FIRST) + "\n")
    assert run_due(api) == 1
    before = {rtype: len(on_peer(medplum, rtype)) for rtype in
              ("DiagnosticReport", "Observation", "Task", "MedicationStatement", "Device")}
    v1 = first["entry"][0]["resource"]
    (landed,) = on_peer(medplum, "DiagnosticReport", identifier=identifier(v1))
    assert (landed["status"], landed["conclusion"]) == ("final", v1["conclusion"])

    # the same sample again with another Ph probability: version 2 of the report
    header, row = FIRST
    second = submit(api, f"{header}\n{row.replace(',0.932,', ',0.611,')}\n")
    v2 = second["entry"][0]["resource"]
    assert (v2["id"], v2["meta"]["versionId"], v2["status"]) == (v1["id"], "2", "amended")
    assert v2["conclusion"] != v1["conclusion"]
    assert run_due(api) == 1

    (landed,) = on_peer(medplum, "DiagnosticReport", identifier=identifier(v2))
    assert (landed["status"], landed["conclusion"]) == ("amended", v2["conclusion"])
    # every changed resource is the receiver's copy, updated in place: nothing duplicated
    after = {rtype: len(on_peer(medplum, rtype)) for rtype in before}
    assert after == before
    for entry in second["entry"]:
        resource = entry["resource"]
        (copy,) = on_peer(medplum, resource["resourceType"], identifier=identifier(resource))
        for field in ("status", "code", "valueCodeableConcept", "component", "conclusion"):
            assert copy.get(field) == resource.get(field), (resource["resourceType"], field)
    changed = Counter(e["resource"]["resourceType"] for e in second["entry"]
                      if e["resource"]["meta"]["versionId"] != "1")
    assert changed["DiagnosticReport"] == 1
    # the delivery of version 2 is done with every update confirmed
    (job,) = [j for j in jobs.of_kind(api.store, "deliver") if j.key.endswith(f":2:{endpoint}")]
    assert job.state == "done"
    assert [(e["request"].split("?")[0], "?identifier=" in e["request"], e["status"])
            for e in job.result["entries"]] == [
        ("DiagnosticReport", True, "200"), ("Observation", True, "200"),
        ("Observation", True, "200"), ("Task", False, "200"), ("Device", False, "200"),
        ("Provenance", False, "201")]  # updated in place, the rest found, one new Provenance
    assert changed == {"DiagnosticReport": 1, "Observation": 2}
    # the updated report's results are the receiver's copies of version 2's Observations
    observations = {f"Observation/{o['id']}": identifier(o) for o in on_peer(medplum, "Observation")}
    assert sorted(observations[r["reference"]] for r in landed["result"]) == sorted(
        f"https://allfhir.org/fhir/NamingSystem/resource-id|{r['reference'].removeprefix('urn:uuid:')}"
        for r in v2["result"])
    assert Counter(p["target"][0]["reference"].split("/")[0]
                   for p in on_peer(medplum, "Provenance")) == {"DiagnosticReport": 2}
