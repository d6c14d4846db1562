"""`POST /fhir/$process-message`: classifier output in a message, converted and stored; the
response message says ok / fatal-error with an OperationOutcome; a resent message (same
Bundle.identifier) gets the same response and nothing is processed twice."""

from __future__ import annotations

import base64

from allfhir.store import jobs, messages
from allfhir.store.schema import submissions
from tests.api.conftest import Api
from tests.api.test_fhir_rest import ARRIBA, EXAMPLE, pipeline_ids
from tests.exchange.conftest import add_endpoint

CODES = "https://allfhir.org/fhir/CodeSystem/allfhir-codes"
SUBMITTED = {"system": CODES, "code": "classifier-output-submitted", "display": "Classifier output submitted"}
LIMS = "http://lims.example/fhir"


def message(files: list[tuple[str, str, bytes]], ident: str = "urn:uuid:5b7c4a52-0f1e-4d35-a1c2-6f1f0d9e8a01",
            event: dict = SUBMITTED) -> dict:
    document = {"resourceType": "DocumentReference", "id": "upload", "status": "current",
                "content": [{"attachment": {"contentType": ctype, "title": name,
                                            "data": base64.b64encode(data).decode()}}
                            for name, ctype, data in files]}
    header = {"resourceType": "MessageHeader", "id": "lims-header-1", "eventCoding": event,
              "source": {"name": "LIMS", "endpoint": LIMS},
              "focus": [{"reference": "urn:uuid:0d3f6b0e-9a65-4c1a-8f25-2b8a3b1c7d10"}]}
    return {"resourceType": "Bundle", "type": "message", "timestamp": "2026-12-01T10:00:00Z",
            "identifier": {"system": "urn:ietf:rfc:3986", "value": ident},
            "entry": [{"fullUrl": "urn:uuid:7e0b2c9a-3f43-4f5e-9d1e-0c6f1a2b3c4d", "resource": header},
                      {"fullUrl": "urn:uuid:0d3f6b0e-9a65-4c1a-8f25-2b8a3b1c7d10", "resource": document}]}


EXAMPLE_FILES = [(EXAMPLE.name, "text/csv", EXAMPLE.read_bytes()),
                 (ARRIBA.name, "text/tab-separated-values", ARRIBA.read_bytes())]


def process(api: Api, body: dict, key: str = "writer"):
    return api.client.post("/fhir/$process-message", json=body, headers=api.auth(key))


def header_of(response: dict) -> dict:
    assert (response["resourceType"], response["type"]) == ("Bundle", "message")
    header = response["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    return header


def submission_count(api: Api) -> int:
    with api.store.engine.connect() as conn:
        return len(conn.execute(submissions.select()).all())


def test_classifier_output_in_a_message_is_converted_stored_and_answered_ok(api: Api) -> None:
    add_endpoint(api, "https://ehr.example/fhir")
    r = process(api, message(EXAMPLE_FILES))
    assert r.status_code == 200, r.get_data(as_text=True)
    header = header_of(r.get_json())
    ids = [report[0] for report in pipeline_ids(EXAMPLE, ARRIBA)]
    assert header["response"] == {"identifier": "lims-header-1", "code": "ok"}
    assert header["eventCoding"] == SUBMITTED
    assert header["destination"] == [{"endpoint": LIMS}]
    assert header["source"]["endpoint"] == "http://localhost/fhir"
    assert header["focus"] == [{"reference": f"http://localhost/fhir/DiagnosticReport/{i}"} for i in ids]
    assert len(r.get_json()["entry"]) == 1  # every row converted: no OperationOutcome
    for i in ids:
        assert api.client.get(f"/fhir/DiagnosticReport/{i}", headers=api.auth("reader")).status_code == 200
    # stored like any conversion: the deliveries of its reports are queued with it
    assert [j.payload["report"] for j in jobs.of_kind(api.store, "deliver")] == [
        f"DiagnosticReport/{i}" for i in ids]


def test_a_resent_message_gets_the_same_response_and_nothing_is_processed_again(api: Api) -> None:
    first = process(api, message(EXAMPLE_FILES))
    assert submission_count(api) == 1
    again = process(api, message(EXAMPLE_FILES))
    assert (again.status_code, again.get_json()) == (200, first.get_json())
    # the identifier decides, not the content: a changed resend is still the first message
    changed = process(api, message([(EXAMPLE.name, "text/csv", EXAMPLE.read_bytes())]))
    assert changed.get_json() == first.get_json()
    assert submission_count(api) == 1
    # a new message with the same files: a new response, the stored reports
    other = process(api, message(EXAMPLE_FILES, ident="urn:uuid:8a1d6f2e-4b3c-4e5d-9f60-718293a4b5c6"))
    assert other.get_json()["id"] != first.get_json()["id"]
    assert header_of(other.get_json())["focus"] == header_of(first.get_json())["focus"]
    assert submission_count(api) == 1


def fatal(api: Api, body: dict) -> list[str]:
    r = process(api, body)
    assert r.status_code == 200, r.get_data(as_text=True)
    response = r.get_json()
    header = header_of(response)
    assert header["response"]["code"] == "fatal-error"
    outcome = response["entry"][1]
    assert header["response"]["details"] == {"reference": outcome["fullUrl"]}
    assert outcome["resource"]["resourceType"] == "OperationOutcome"
    return [i["diagnostics"] for i in outcome["resource"]["issue"]]


def test_a_message_that_cannot_be_processed_is_answered_fatal_error_with_why(api: Api) -> None:
    other_event = message(EXAMPLE_FILES, ident="urn:uuid:1", event={"system": CODES, "code": "other"})
    assert fatal(api, other_event) == [
        f"event {CODES}#other is not processed here; send {CODES}#classifier-output-submitted"]
    no_document = message(EXAMPLE_FILES, ident="urn:uuid:2")
    no_document["entry"][0]["resource"]["focus"] = []
    assert fatal(api, no_document) == [
        "MessageHeader.focus names no DocumentReference in the message: send the classifier output as "
        "DocumentReference.content.attachment (title = file name, data = base64)"]
    not_base64 = message(EXAMPLE_FILES, ident="urn:uuid:3")
    not_base64["entry"][1]["resource"]["content"][0]["attachment"]["data"] = "***"
    assert fatal(api, not_base64) == ["DocumentReference[0].content[0].attachment.data is not base64"]
    unconvertible = fatal(api, message([("notes.csv", "text/csv", b"patient,comment\nP1,ok\n")],
                                       ident="urn:uuid:4"))
    assert len(unconvertible) == 1 and unconvertible[0].startswith("notes.csv")
    # the answer stands: sent again, the same fatal-error
    assert fatal(api, message(EXAMPLE_FILES, ident="urn:uuid:4")) == unconvertible
    assert submission_count(api) == 0


def test_what_is_not_a_message_is_400(api: Api) -> None:
    for body, text in (
        ({"resourceType": "Bundle", "type": "collection"},
         "$process-message takes a Bundle of type message (http://hl7.org/fhir/R4/messaging.html)"),
        ({"resourceType": "Bundle", "type": "message", "entry": [{"resource": {"resourceType": "Patient"}}]},
         "the message's first entry must be a MessageHeader with an id"),
        ({**message(EXAMPLE_FILES), "identifier": None},
         "the message needs Bundle.identifier (system and value): a resent message is recognised by it")):
        r = process(api, body)
        assert (r.status_code, r.get_json()["issue"][0]["diagnostics"]) == (400, text)


def test_a_body_that_is_not_json_is_400_saying_where_it_breaks(api: Api) -> None:
    r = api.client.post("/fhir/$process-message", data=b'{"resourceType": "Bundle",',
                        headers={**api.auth("writer"), "Content-Type": "application/fhir+json"})
    assert r.status_code == 400
    assert r.get_json()["issue"][0]["diagnostics"] == (
        "the body is not JSON: Expecting property name enclosed in double quotes: line 1 column 27 "
        "(char 26)")


def test_processing_a_message_needs_write_scopes(api: Api) -> None:
    r = process(api, message(EXAMPLE_FILES), key="reader")
    assert r.status_code == 403


def test_the_first_recorded_response_stands(api: Api) -> None:
    first = {"resourceType": "Bundle", "type": "message", "id": "first"}
    assert messages.record(api.store, "urn:ietf:rfc:3986", "urn:uuid:9", first) == first
    assert messages.record(api.store, "urn:ietf:rfc:3986", "urn:uuid:9", {"id": "second"}) == first
    assert messages.response(api.store, "urn:ietf:rfc:3986", "urn:uuid:9") == first
