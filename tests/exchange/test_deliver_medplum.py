"""Delivery of the README example into a real FHIR server (the Medplum FHIR engine peer): every
resource lands once, found by its identifier; delivering again creates nothing; the Provenance
of the delivery points at the report; messages arrive at $process-message."""

from __future__ import annotations

from collections import Counter

from allfhir import __version__
from allfhir.exchange.messaging import ISSUED
from allfhir.exchange.transaction import delivery_uri
from allfhir.store import jobs, schema
from tests.api.conftest import Api
from tests.api.test_fhir_rest import ARRIBA, EXAMPLE, reports
from tests.exchange.conftest import Peer, add_endpoint, due_now, free_port, run_due, start_medplum, worker


def convert_example(api: Api) -> list[dict]:
    files = {"file": [(EXAMPLE.open("rb"), EXAMPLE.name), (ARRIBA.open("rb"), ARRIBA.name)]}
    r = api.client.post("/fhir/$convert", data=files, content_type="multipart/form-data",
                        headers=api.auth("writer"))
    assert r.status_code == 200, r.get_data(as_text=True)
    return reports(r.get_json())


def identifier(resource: dict) -> str:
    ident = resource["identifier"][0]
    return f"{ident['system']}|{ident['value']}"


def on_peer(peer: Peer, rtype: str, **params: str) -> list[dict]:
    return [e["resource"] for e in peer.get(rtype, _count="1000", **params).get("entry", [])]


def delivery_of(api: Api, report_id: str) -> jobs.Job:
    (job,) = jobs.of_kind(api.store, "deliver", f"deliver:DiagnosticReport/{report_id}:")
    return job


def status_of(api: Api, report_id: str) -> list[dict[str, object]]:
    r = api.client.get(f"/fhir/DiagnosticReport/{report_id}/$delivery-status", headers=api.auth("reader"))
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["resourceType"] == "Parameters"
    return [{p["name"]: next(v for k, v in p.items() if k != "name") for p in d["part"]}
            for d in body["parameter"]]


def test_the_readme_example_lands_once_and_delivering_again_creates_nothing(api: Api, medplum: Peer) -> None:
    endpoint = add_endpoint(api, medplum.url, name="EHR")
    bundles = convert_example(api)
    assert [identifier(b["entry"][0]["resource"]) for b in bundles] == [
        f"https://allfhir.org/fhir/NamingSystem/report-id|allsorts:{s}"
        for s in ("SJBALL043684", "SJALL015972", "SJBALL014030")]
    assert run_due(api) == 3

    ours = {identifier(e["resource"]): e["resource"] for b in bundles for e in b["entry"]}
    expected = Counter(r["resourceType"] for r in ours.values())  # the Device is shared: once
    assert expected == {"Observation": 16, "MedicationStatement": 3, "Task": 5, "DiagnosticReport": 3,
                        "Device": 1}
    for rtype, count in expected.items():
        landed = on_peer(medplum, rtype)
        assert len(landed) == count, rtype
        assert sorted(identifier(r) for r in landed) == sorted(i for i, r in ours.items()
                                                               if r["resourceType"] == rtype)
    # each found once by its identifier, with its content and the receiver's references
    for ident, resource in ours.items():
        (landed,) = on_peer(medplum, resource["resourceType"], identifier=ident)
        assert landed.get("code") == resource.get("code")
    ph = bundles[0]["entry"][0]["resource"]
    (report,) = on_peer(medplum, "DiagnosticReport", identifier=identifier(ph))
    assert report["status"] == "final" and report["id"] != ph["id"]
    results = {r["reference"] for r in report["result"]}
    observations = {f"Observation/{o['id']}": identifier(o) for o in on_peer(medplum, "Observation")}
    # the report's results point at the receiver's copies of our Observations
    assert sorted(observations[r] for r in results) == sorted(
        f"https://allfhir.org/fhir/NamingSystem/resource-id|{ref['reference'].removeprefix('urn:uuid:')}"
        for ref in ph["result"])

    provenances = on_peer(medplum, "Provenance")
    assert len(provenances) == 3
    (prov,) = [p for p in provenances if p["target"] == [{"reference": f"DiagnosticReport/{report['id']}"}]]
    job = delivery_of(api, ph["id"])
    assert prov["meta"]["source"] == delivery_uri(job.key)
    assert prov["agent"] == [{"type": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
        "code": "assembler", "display": "Assembler"}]},
        "who": {"display": f"allfhir {__version__} (http://allfhir.test/fhir)"}}]
    assert prov["recorded"].endswith("Z")

    entries = len(bundles[0]["entry"]) + 1  # and the Provenance
    assert status_of(api, ph["id"]) == [{
        "endpoint": {"reference": f"Endpoint/{endpoint}"}, "version": "1", "state": "delivered",
        "attempts": 1, "updated": status_of(api, ph["id"])[0]["updated"],
        "created": entries, "existing": 0, "location": f"DiagnosticReport/{report['id']}"}]

    # a confirmed delivery is not sent again: queuing it again returns the done job
    for old in jobs.of_kind(api.store, "deliver"):
        assert jobs.submit(api.store, "deliver", old.payload, key=old.key) == old.id
    assert run_due(api) == 0
    # delivered again all the same, as after a lost confirmation (the worker's lease lapsed
    # before it could record the receiver's answer): nothing new on the receiver, not even a
    # second Provenance
    with api.store.transaction() as conn:
        conn.execute(schema.jobs.update().values(state="queued"))
    assert run_due(api) == 3
    for rtype, count in {**expected, "Provenance": 3}.items():
        assert len(on_peer(medplum, rtype)) == count, rtype
    assert [(j.state, j.attempts, j.result["created"], j.result["existing"])
            for j in jobs.of_kind(api.store, "deliver")] == [
        ("done", 2, 0, len(b["entry"]) + 1) for b in bundles]


def test_a_message_endpoint_gets_each_report_as_a_message(api: Api, medplum: Peer) -> None:
    endpoint = add_endpoint(api, medplum.url, "genomic-report-message")
    bundles = convert_example(api)
    assert run_due(api) == 3
    messages = on_peer(medplum, "Bundle")
    assert len(messages) == 3
    by_report = {m["entry"][1]["resource"]["id"]: m for m in messages}
    for b in bundles:
        report = b["entry"][0]["resource"]
        m = by_report[report["id"]]
        job = delivery_of(api, report["id"])
        assert (m["type"], m["identifier"]) == ("message", {"system": "urn:ietf:rfc:3986",
                                                            "value": delivery_uri(job.key)})
        header = m["entry"][0]["resource"]
        assert header["resourceType"] == "MessageHeader"
        assert header["eventCoding"] == ISSUED == {
            "system": "https://allfhir.org/fhir/CodeSystem/allfhir-codes", "code": "genomic-report-issued",
            "display": "Genomic report issued"}
        assert header["focus"] == [{"reference": f"urn:uuid:{report['id']}"}]
        assert header["destination"] == [{"endpoint": medplum.url}]
        assert header["source"] == {"name": "allfhir", "software": "allfhir", "version": __version__,
                                    "endpoint": "http://allfhir.test/fhir"}
        assert [e["resource"]["id"] for e in m["entry"][1:]] == [e["resource"]["id"] for e in b["entry"]]
        (state,) = status_of(api, report["id"])
        assert (state["endpoint"], state["state"], state["response"]) == (
            {"reference": f"Endpoint/{endpoint}"}, "delivered", "ok")


def test_a_receiver_answering_transient_error_gets_the_message_again_later(api: Api) -> None:
    peer = start_medplum(MESSAGE_RESPONSE="transient-error")
    try:
        add_endpoint(api, peer.url, "genomic-report-message")
        bundles = convert_example(api)
        assert run_due(api) == 3
        job = delivery_of(api, bundles[1]["entry"][0]["resource"]["id"])
        assert (job.state, job.attempts) == ("queued", 1)
        assert job.error == (f"{peer.url}/$process-message answered transient-error: "
                             "test peer answers transient-error")
    finally:
        peer.stop()


def test_a_receiver_answering_fatal_error_makes_a_dead_letter_with_its_outcome(api: Api) -> None:
    peer = start_medplum(MESSAGE_RESPONSE="fatal-error")
    try:
        add_endpoint(api, peer.url, "genomic-report-message")
        report = convert_example(api)[0]["entry"][0]["resource"]
        assert run_due(api) == 3
        (state,) = status_of(api, report["id"])
        assert (state["state"], state["attempts"], state["lastError"]) == (
            "dead-letter", 1,
            f"{peer.url}/$process-message answered fatal-error: test peer answers fatal-error")
        assert state["response"]["type"] == "message"
        assert state["response"]["entry"][0]["resource"]["response"]["code"] == "fatal-error"
    finally:
        peer.stop()


def test_the_receiver_killed_mid_run_and_restarted_gets_each_report_once(api: Api) -> None:
    port = free_port()
    first = start_medplum(PORT=str(port))
    try:
        add_endpoint(api, first.url)
        bundles = convert_example(api)
        w = worker(api)
        assert w.run_once() and w.run_once()  # two of the three reports delivered and confirmed
        delivered = [identifier(r) for r in on_peer(first, "DiagnosticReport")]
        first.stop()  # the receiver goes down (and, memory only, forgets everything)
        assert w.run_once()
        waiting = [j for j in jobs.of_kind(api.store, "deliver") if j.state == "queued"]
        assert len(waiting) == 1 and "Connection refused" in waiting[0].error
        second = start_medplum(PORT=str(port))  # back, on the same address
        try:
            due_now(api)
            assert w.run_once() and not w.run_once()
            # the confirmed two are not sent again; the unconfirmed one arrives, once
            again = [identifier(r) for r in on_peer(second, "DiagnosticReport")]
            assert sorted(delivered + again) == sorted(identifier(b["entry"][0]["resource"]) for b in bundles)
            assert len(again) == 1 and again[0] not in delivered
            assert [j.state for j in jobs.of_kind(api.store, "deliver")] == ["done"] * 3
        finally:
            second.stop()
        w.store.dispose()
    finally:
        first.stop()
