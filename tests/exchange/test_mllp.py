"""The MLLP client against a real listener process on 127.0.0.1 (tests/peers/mllp_listener.py):
accepted (AA), rejected (AE / AR with the ERR text), and no verdict (silence, a dropped
connection, a closed port), each as the typed Ack the delivery outbox acts on."""

from __future__ import annotations

import io
import json
import re
import socket
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from allfhir.cli import main
from allfhir.exchange.mllp import Ack, Outcome, read_ack, send
from allfhir.exchange.v2_message import bundle_messages
from tests.conftest import DATA, REPO
from tests.peers.mllp_peer import Listener, mllp_listener

EXAMPLE = [REPO / "examples" / "allsorts" / "probabilities.csv",
           REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"]
VCF = DATA / "vcf" / "vep-ikzf1.vcf"


def converted(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "bundles.ndjson"
    assert main(["convert", *args, "-o", str(out)]) == 0
    return out


def messages(path: Path) -> list[str]:
    return [m for line in path.read_text().splitlines() for m in bundle_messages(json.loads(line))]


def control_id(message: str) -> str:
    return message.split("\r", 1)[0].split("|")[9]


@pytest.fixture(scope="module")
def vcf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return converted(tmp_path_factory.mktemp("vcf"), str(VCF), "--patient", "http://hospital.example/mrn|42")


@pytest.fixture(scope="module")
def with_patient(vcf_file: Path) -> str:
    return messages(vcf_file)[0]


@pytest.fixture(scope="module")
def readme_messages(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return messages(converted(tmp_path_factory.mktemp("readme"), *map(str, EXAMPLE)))


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    with mllp_listener(tmp_path / "peer", "accept", "--require-patient") as peer:
        yield peer


def test_accepted_aa(listener: Listener, with_patient: str) -> None:
    ack = send(with_patient, "127.0.0.1", listener.port, timeout=10)
    assert ack.outcome is Outcome.ACCEPTED and ack.accepted
    assert not ack.dead_letter and not ack.retry
    assert ack.code == "AA" and ack.text == "" and ack.reason == ""
    assert ack.control_id == control_id(with_patient)
    assert ack.raw is not None and ack.raw.split("\r")[1] == f"MSA|AA|{control_id(with_patient)}"
    assert listener.received() == [{"control_id": control_id(with_patient), "answer": "accept"}]


def test_every_readme_report_is_refused_without_a_patient_ae(listener: Listener,
                                                             readme_messages: list[str]) -> None:
    # the README example names no patient: this receiver files nothing without a PID
    acks = [send(m, "127.0.0.1", listener.port, timeout=10) for m in readme_messages]
    assert [(a.outcome, a.code, a.text) for a in acks] == [
        (Outcome.REJECTED, "AE", "PID required: a result without a patient cannot be filed")] * 3
    assert all(a.dead_letter for a in acks)
    assert [a.control_id for a in acks] == [control_id(m) for m in readme_messages]


def test_an_invalid_message_gets_ae_with_the_validators_text(listener: Listener, with_patient: str) -> None:
    # OBX-11 (observation result status) is required in v2.5.1: the receiver's STRICT parse says so
    broken = "\r".join(re.sub(r"^(OBX\|1\|(?:[^|]*\|){9})F", r"\1", s) for s in with_patient.split("\r"))
    assert broken != with_patient
    ack = send(broken, "127.0.0.1", listener.port, timeout=10)
    assert (ack.outcome, ack.code) == (Outcome.REJECTED, "AE")
    assert ack.text == "ValidationError: Missing required child OBX.OBX_11"


def test_rejected_ar_with_the_err_text(tmp_path: Path, with_patient: str) -> None:
    with mllp_listener(tmp_path, "reject") as peer:
        ack = send(with_patient, "127.0.0.1", peer.port, timeout=10)
    assert (ack.outcome, ack.code, ack.text) == (
        Outcome.REJECTED, "AR", "results are not accepted from this sender")
    assert ack.control_id == control_id(with_patient)


def test_no_ack_within_the_timeout_is_retried(tmp_path: Path, with_patient: str) -> None:
    with mllp_listener(tmp_path, "silent") as peer:
        ack = send(with_patient, "127.0.0.1", peer.port, timeout=0.5)
        arrived = peer.received()
    assert (ack.outcome, ack.code, ack.reason) == (Outcome.RETRY, None, "timeout")
    assert ack.retry and ack.text == f"no ACK from 127.0.0.1:{peer.port} within 0.5 s"
    # it did arrive: only the receiver knows whether it was filed, so it is sent again
    assert arrived == [{"control_id": control_id(with_patient), "answer": "silent"}]


def test_a_dropped_connection_is_retried(tmp_path: Path, with_patient: str) -> None:
    with mllp_listener(tmp_path, "drop") as peer:
        ack = send(with_patient, "127.0.0.1", peer.port, timeout=10)
    assert (ack.outcome, ack.code, ack.reason) == (Outcome.RETRY, None, "closed")
    assert ack.text.startswith(f"127.0.0.1:{peer.port} closed the connection without an ACK")


def test_a_closed_port_is_refused_and_retried(with_patient: str) -> None:
    with socket.socket() as s:  # a port that was free a moment ago and has no listener
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ack = send(with_patient, "127.0.0.1", port, timeout=5)
    assert (ack.outcome, ack.code, ack.reason, ack.raw) == (Outcome.RETRY, None, "refused", None)
    assert ack.text.startswith(f"127.0.0.1:{port}: ")


def test_the_listener_changes_its_answer_on_command(listener: Listener, with_patient: str) -> None:
    outcomes = []
    for mode in ("accept", "reject", "drop", "accept"):
        listener.set_mode(mode)
        outcomes.append(send(with_patient, "127.0.0.1", listener.port, timeout=10).outcome)
    assert outcomes == [Outcome.ACCEPTED, Outcome.REJECTED, Outcome.RETRY, Outcome.ACCEPTED]
    assert [r["answer"] for r in listener.received()] == ["accept", "reject", "drop", "accept"]


def test_cli_send_prints_each_verdict(listener: Listener, vcf_file: Path, with_patient: str) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["v2", "send", str(vcf_file), "--port", str(listener.port), "--timeout", "10"])
    assert code == 0
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [
        {"control_id": control_id(with_patient), "outcome": "accepted", "code": "AA", "text": "",
         "reason": None}]
    listener.set_mode("reject")
    with redirect_stdout(io.StringIO()):
        assert main(["v2", "send", str(vcf_file), "--port", str(listener.port)]) == 2


# --- ACKs other receivers send (read_ack on their literal text) ----------------------------------

MSH = "MSH|^~\\&|EHR|HOSP|ALLFHIR|LAB|20261201||ACK^R01^ACK|A1|P|2.5.1"


def test_enhanced_mode_commit_accept_counts_as_accepted() -> None:
    assert read_ack(f"{MSH}\rMSA|CA|M1", "M1") == Ack(
        Outcome.ACCEPTED, code="CA", control_id="M1", raw=f"{MSH}\rMSA|CA|M1")


def test_err_texts_in_order_and_msa_3_of_older_versions() -> None:
    two = f"{MSH}\rMSA|AE|M1\rERR||||E|||bad \\T\\ worse\rERR|||101^Required field missing^HL70357|E"
    assert read_ack(two, "M1").text == "bad & worse; Required field missing"
    assert read_ack(f"{MSH}\rMSA|AR|M1|receiver down", "M1").text == "receiver down"


def test_an_ack_for_another_message_or_no_ack_at_all_is_retried() -> None:
    other = read_ack(f"{MSH}\rMSA|AA|M2", "M1")
    assert (other.outcome, other.reason, other.control_id) == (Outcome.RETRY, "mismatched", "M2")
    assert read_ack("hello", "M1").reason == "unreadable"
    assert read_ack(f"{MSH}\rMSA|ZZ|M1", "M1").reason == "unreadable"


def test_a_listener_restarted_mid_run_gets_every_message_once(tmp_path: Path,
                                                              readme_messages: list[str]) -> None:
    # a caller that retries what got no verdict (as the outbox does) and the receiver going away
    # between two messages: nothing is lost, nothing accepted is sent twice
    queue = list(readme_messages)
    attempts: list[tuple[str, Outcome]] = []
    with mllp_listener(tmp_path / "peer") as first:
        port = first.port
        ack = send(queue[0], "127.0.0.1", port, timeout=10)
        attempts.append((control_id(queue[0]), ack.outcome))
        assert ack.accepted
    # the listener is down: the next message is refused and stays queued
    down = send(queue[1], "127.0.0.1", port, timeout=5)
    attempts.append((control_id(queue[1]), down.outcome))
    assert (down.outcome, down.reason) == (Outcome.RETRY, "refused")
    with mllp_listener(tmp_path / "peer", port=port) as again:
        for message in queue[1:]:
            ack = send(message, "127.0.0.1", port, timeout=10)
            attempts.append((control_id(message), ack.outcome))
            assert ack.accepted
        arrived = [r["control_id"] for r in again.received()]
    assert arrived == [control_id(m) for m in readme_messages]  # each once, in order
    assert [o for _, o in attempts] == [Outcome.ACCEPTED, Outcome.RETRY, Outcome.ACCEPTED,
                                        Outcome.ACCEPTED]
