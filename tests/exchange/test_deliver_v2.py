"""Delivery of payload type genomic-report-hl7v2: each stored report as an HL7 v2.5.1 ORU^R01
over MLLP through the outbox, against the real listener process (tests/peers/mllp_listener.py):
AA delivers, AE / AR are dead letters with the ERR text, silence and a closed port are retried,
and a listener killed mid-run and started again gets every report exactly once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from allfhir.cli import main
from allfhir.exchange.v2_sender import control_id
from allfhir.store import endpoints, jobs
from tests.api.conftest import Api
from tests.exchange.conftest import add_endpoint, due_now, free_port, run_due, worker
from tests.exchange.test_deliver_failures import convert_one, the_delivery
from tests.exchange.test_deliver_medplum import status_of
from tests.exchange.test_deliver_workers import cohort
from tests.peers.mllp_peer import Listener, mllp_listener

HL7V2 = "genomic-report-hl7v2"


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    with mllp_listener(tmp_path / "peer", "accept") as peer:
        yield peer


def add_mllp(api: Api, port: int, **settings: float) -> str:
    return add_endpoint(api, f"mllp://127.0.0.1:{port}", HL7V2, **settings)


def test_an_accepted_message_is_delivered_once(api: Api, listener: Listener) -> None:
    endpoint = add_mllp(api, listener.port)
    report = convert_one(api)
    assert run_due(api) == 1
    job = the_delivery(api)
    sent = control_id(job.key, 0)
    assert listener.received() == [{"control_id": sent, "answer": "accept"}]
    assert (job.state, job.attempts, job.result) == ("done", 1, {
        "endpoint": endpoint, "payload": HL7V2, "messages": [{"control_id": sent, "ack": "AA"}]})
    (state,) = status_of(api, report)
    assert (state["state"], state["attempts"]) == ("delivered", 1)
    assert run_due(api) == 0  # confirmed: never sent again


def test_the_control_id_names_the_delivery() -> None:
    assert control_id("a", 0) == control_id("a", 0)
    assert len({control_id("a", 0), control_id("a", 1), control_id("b", 0)}) == 3
    assert len(control_id("a", 0)) == 20


def test_ae_is_a_dead_letter_with_the_err_text(api: Api, tmp_path: Path) -> None:
    with mllp_listener(tmp_path / "peer", "accept", "--require-patient") as peer:
        add_mllp(api, peer.port)
        report = convert_one(api)  # the generic example names no patient: no PID
        assert run_due(api) == 1
        assert [r["answer"] for r in peer.received()] == ["accept"]
    (state,) = status_of(api, report)
    assert (state["state"], state["attempts"]) == ("dead-letter", 1)
    address = f"mllp://127.0.0.1:{peer.port}"
    assert state["lastError"] == (f"AE from {address}: PID required: a result without a patient "
                                  "cannot be filed")
    assert state["response"].startswith("MSH|") and "\rMSA|AE|" in state["response"]
    assert run_due(api) == 0  # a dead letter is not sent again by itself


def test_ar_is_a_dead_letter_until_retried(api: Api, listener: Listener) -> None:
    listener.set_mode("reject")
    add_mllp(api, listener.port)
    report = convert_one(api)
    assert run_due(api) == 1
    (state,) = status_of(api, report)
    assert state["state"] == "dead-letter"
    assert state["lastError"] == (f"AR from mllp://127.0.0.1:{listener.port}: results are not "
                                  "accepted from this sender")
    listener.set_mode("accept")
    r = api.client.post(f"/fhir/DiagnosticReport/{report}/$retry", headers=api.auth("admin"))
    assert r.status_code == 200
    assert run_due(api) == 1
    assert status_of(api, report)[0]["state"] == "delivered"
    sent = control_id(the_delivery(api).key, 0)
    assert listener.received() == [{"control_id": sent, "answer": "reject"},
                                   {"control_id": sent, "answer": "accept"}]


def test_silence_times_out_and_is_sent_again_with_the_same_control_id(
        api: Api, listener: Listener) -> None:
    listener.set_mode("silent")
    add_mllp(api, listener.port, read_timeout=0.5)
    report = convert_one(api)
    assert run_due(api) == 1
    job = the_delivery(api)
    assert (job.state, job.attempts) == ("queued", 1)
    assert job.error == f"timeout: no ACK from 127.0.0.1:{listener.port} within 0.5 s"
    assert 0 <= (job.run_after - job.updated).total_seconds() <= 2.0  # worker.backoff(1)
    listener.set_mode("accept")
    due_now(api)
    assert run_due(api) == 1
    (state,) = status_of(api, report)
    assert (state["state"], state["attempts"]) == ("delivered", 2)
    sent = control_id(job.key, 0)
    assert listener.received() == [{"control_id": sent, "answer": "silent"},
                                   {"control_id": sent, "answer": "accept"}]


def test_a_closed_port_is_retried_until_the_listener_is_there(api: Api, tmp_path: Path) -> None:
    port = free_port()
    add_mllp(api, port)
    report = convert_one(api)
    assert run_due(api) == 1
    job = the_delivery(api)
    assert job.state == "queued" and job.error.startswith(f"refused: 127.0.0.1:{port}: ")
    with mllp_listener(tmp_path / "peer", "accept", port=port) as peer:
        due_now(api)
        assert run_due(api) == 1
        assert status_of(api, report)[0]["state"] == "delivered"
        assert peer.received() == [{"control_id": control_id(job.key, 0), "answer": "accept"}]


def test_a_listener_killed_mid_run_gets_every_report_exactly_once(api: Api, tmp_path: Path) -> None:
    workdir, reports = tmp_path / "peer", 8
    with mllp_listener(workdir, "accept") as first:
        port = first.port
        add_mllp(api, port)
        r = api.client.post("/fhir/$convert?format=allsorts", data=cohort(reports),
                            content_type="text/csv", headers=api.auth("writer"))
        assert r.status_code == 200, r.get_data(as_text=True)
        queued = jobs.of_kind(api.store, "deliver")
        assert len(queued) == reports
        w = worker(api)
        assert [w.run_once() for _ in range(3)] == [True] * 3
        first.process.kill()  # SIGKILL: no shutdown, mid-queue
        first.process.wait()
        assert run_due(api) == reports - 3  # each meets a closed port
        assert {j.state for j in jobs.of_kind(api.store, "deliver")} == {"done", "queued"}
        w.store.dispose()
    with mllp_listener(workdir, "accept", port=port) as second:  # the same port and log
        due_now(api)
        assert run_due(api) == reports - 3
        arrived = Counter(r["control_id"] for r in second.received())
    delivered = jobs.of_kind(api.store, "deliver")
    assert {j.state for j in delivered} == {"done"}
    assert arrived == {control_id(j.key, 0): 1 for j in queued}


def test_the_cli_adds_an_mllp_endpoint(api: Api, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ALLFHIR_DATABASE_URL", api.app.extensions["allfhir.settings"].database_url)
    assert main(["endpoint", "add", "mllp://ehr.example:2575", "--payload", "hl7v2",
                 "--read-timeout", "15"]) == 0
    ref, payload, address = capsys.readouterr().out.strip().split("\t")
    assert (payload, address) == ("hl7v2", "mllp://ehr.example:2575")
    stored = endpoints.get(api.store, ref.removeprefix("Endpoint/")).resource
    assert stored["connectionType"] == {
        "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "code": "hl7v2-mllp"}
    assert stored["payloadMimeType"] == ["x-application/hl7-v2+er7"]
    assert stored["payloadType"][0]["coding"][0]["code"] == HL7V2
    assert main(["endpoint", "add", "https://ehr.example/fhir", "--payload", "hl7v2"]) == 2
    outcome = json.loads(capsys.readouterr().err)
    assert [i["diagnostics"] for i in outcome["issue"]] == [
        "Endpoint.address 'https://ehr.example/fhir' is not a mllp URL"]
