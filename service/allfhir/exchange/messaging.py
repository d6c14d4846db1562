"""FHIR messaging (R4 messaging.html, MessageHeader-process-message).

Out (payload type genomic-report-message): each report as a message Bundle, event
`genomic-report-issued` (our CodeSystem), focus = the DiagnosticReport, POSTed to
`[address]/$process-message`. Its Bundle.identifier is the delivery's URI, the same on every
attempt, so a receiver that keeps message ids processes a resent one once. The response message's
MessageHeader.response.code decides: ok = confirmed, transient-error = try again later,
fatal-error = dead letter with the receiver's OperationOutcome.

In (`POST /fhir/$process-message`, api/exchange.py): a message of event
`classifier-output-submitted` whose focus is a DocumentReference; each `content.attachment` is
one input file (`title` = its file name, which names the sample for companion files;
`contentType`; `data` base64): the classifier's output, our generic JSON, and companion fusion
or VCF files, converted as `$convert` converts a multipart upload. This module parses the
request and builds the response message; the route converts and stores.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from werkzeug.utils import secure_filename

from .. import __version__, codes
from ..errors import Problem, RequestError
from ..store.submissions import instant
from . import receiver
from .channels import Delivery
from .endpoints import Target
from .transaction import DELIVERY_NAMESPACE, delivery_uri

Json = dict[str, Any]
RESPONSE_CODES = "http://hl7.org/fhir/response-code"  # ok | transient-error | fatal-error
URI = "urn:ietf:rfc:3986"
ISSUED = {"system": codes.CS_ALLFHIR, "code": codes.C_GENOMIC_REPORT_ISSUED,
          "display": codes.ALLFHIR_CODE_DISPLAY[codes.C_GENOMIC_REPORT_ISSUED]}
SUBMITTED = {"system": codes.CS_ALLFHIR, "code": codes.C_CLASSIFIER_OUTPUT_SUBMITTED,
             "display": codes.ALLFHIR_CODE_DISPLAY[codes.C_CLASSIFIER_OUTPUT_SUBMITTED]}
EXTENSIONS = {"text/csv": ".csv", "text/tab-separated-values": ".tsv", "application/json": ".json",
              "text/plain": ".txt", "text/vcf": ".vcf", "text/x-vcf": ".vcf"}


def _source(base_url: str) -> Json:
    return {"name": "allfhir", "software": "allfhir", "version": __version__, "endpoint": base_url}


def message(report: Json, key: str, now: datetime, base_url: str, address: str) -> Json:
    """The message Bundle of one report delivery."""
    header_id = str(uuid.uuid5(DELIVERY_NAMESPACE, key + "#message-header"))
    entries = report.get("entry", [])
    header = {
        "resourceType": "MessageHeader", "id": header_id, "eventCoding": ISSUED,
        "destination": [{"endpoint": address}],
        "source": _source(base_url),
        "focus": [{"reference": entries[0]["fullUrl"]}],
    }
    return {
        "resourceType": "Bundle", "id": str(uuid.uuid5(DELIVERY_NAMESPACE, key + "#message")),
        "identifier": {"system": URI, "value": delivery_uri(key)},
        "type": "message", "timestamp": instant(now),
        "entry": [{"fullUrl": f"urn:uuid:{header_id}", "resource": header},
                  *({"fullUrl": e["fullUrl"], "resource": e["resource"]} for e in entries)],
    }


def answer(response: Json, sent: Json) -> tuple[str, str | None]:
    """(response code, the receiver's text) of a response message to `sent`."""
    entries = response.get("entry") or [{}]
    header = entries[0].get("resource") or {}
    if response.get("type") != "message" or header.get("resourceType") != "MessageHeader":
        return "fatal-error", "the receiver did not answer a response message"
    said = header.get("response") or {}
    if said.get("identifier") != sent["entry"][0]["resource"]["id"]:
        return "fatal-error", (f"the response is to message header '{said.get('identifier')}', not "
                               f"'{sent['entry'][0]['resource']['id']}'")
    details = (said.get("details") or {}).get("reference")
    outcome = next((e.get("resource") for e in entries if details and e.get("fullUrl") == details), None)
    return said.get("code", "fatal-error"), receiver.outcome_text(outcome)


def send(t: Target, d: Delivery) -> Json:
    """channels.CHANNELS sender: POST the message to [address]/$process-message."""
    from ..worker import Refused, RetryLater, backoff

    sent = message(d.report, d.key, d.now, d.base_url, t.address)
    url = f"{t.address}/$process-message"
    response = receiver.post(t, url, sent, d.attempt)
    code, text = answer(response, sent)
    reason = f"{url} answered {code}" + (f": {text}" if text else "")
    if code == "ok":
        return {"status": 200, "response": code, "message": sent["identifier"]["value"]}
    if code == "transient-error":
        raise RetryLater(backoff(d.attempt), reason)
    raise Refused(reason, {"status": 200, "response": response})


# --- in: $process-message ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Inbound:
    system: str  # Bundle.identifier: a resent message is known by it
    value: str
    header: Json
    files: list[tuple[str, bytes]]  # (file name, content); empty when `problem` says why
    problem: Problem | None  # what makes the message unprocessable (a fatal-error response)


def inbound(body: Any) -> Inbound:
    """A request message; RequestError (400) when it is not a message at all, so no response
    message can name it."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle" or body.get("type") != "message":
        raise RequestError("malformed", "$process-message takes a Bundle of type message "
                           "(http://hl7.org/fhir/R4/messaging.html)", code="structure")
    entries = body.get("entry") or []
    header = (entries[0].get("resource") or {}) if entries else {}
    if header.get("resourceType") != "MessageHeader" or not header.get("id"):
        raise RequestError("malformed", "the message's first entry must be a MessageHeader with "
                           "an id", code="structure")
    ident = body.get("identifier") or {}
    if not ident.get("system") or not ident.get("value"):
        raise RequestError("malformed", "the message needs Bundle.identifier (system and value): "
                           "a resent message is recognised by it", code="required")
    system, value = str(ident["system"])[:255], str(ident["value"])[:255]
    event = header.get("eventCoding") or {}
    if (event.get("system"), event.get("code")) != (codes.CS_ALLFHIR, codes.C_CLASSIFIER_OUTPUT_SUBMITTED):
        return Inbound(system, value, header, [], Problem(
            f"event {event.get('system')}#{event.get('code')} is not processed here; send "
            f"{codes.CS_ALLFHIR}#{codes.C_CLASSIFIER_OUTPUT_SUBMITTED}", code="not-supported"))
    by_url = {e.get("fullUrl"): e.get("resource") for e in entries[1:]}
    documents = [by_url.get(f.get("reference")) for f in header.get("focus") or []]
    documents = [d for d in documents if isinstance(d, dict) and d.get("resourceType") == "DocumentReference"]
    if not documents:
        return Inbound(system, value, header, [], Problem(
            "MessageHeader.focus names no DocumentReference in the message: send the classifier "
            "output as DocumentReference.content.attachment (title = file name, data = base64)",
            code="required"))
    try:
        files = _attachments(documents)
    except ValueError as err:
        return Inbound(system, value, header, [], Problem(str(err), code="invalid"))
    return Inbound(system, value, header, files, None)


def _attachments(documents: list[Json]) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for d, doc in enumerate(documents):
        for c, content in enumerate(doc.get("content") or []):
            att = content.get("attachment") or {}
            where = f"DocumentReference[{d}].content[{c}].attachment"
            if not att.get("data"):
                raise ValueError(f"{where} has no data (a url is not fetched: send the file inline)")
            try:
                data = base64.b64decode(att["data"], validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"{where}.data is not base64") from None
            name = secure_filename(att.get("title") or "") or \
                f"file{len(files) + 1}{EXTENSIONS.get(att.get('contentType', ''), '')}"
            if name in seen:
                name = f"{len(files) + 1}-{name}"
            seen.add(name)
            files.append((name, data))
    if not files:
        raise ValueError("the DocumentReference has no content.attachment")
    return files


def response(request: Inbound, code: str, base_url: str, now: datetime,
             reports: tuple[str, ...] = (), outcome: Json | None = None) -> Json:
    """The response message: MessageHeader.response (identifier = the request's MessageHeader
    id), focus = the stored DiagnosticReports, details = the OperationOutcome when there is one."""
    seed = f"{request.system}|{request.value}#response"
    header_id = str(uuid.uuid5(DELIVERY_NAMESPACE, seed))
    header: Json = {
        "resourceType": "MessageHeader", "id": header_id,
        "eventCoding": request.header.get("eventCoding") or SUBMITTED,
        "source": _source(base_url),
        "response": {"identifier": request.header["id"], "code": code},
    }
    sender = (request.header.get("source") or {}).get("endpoint")
    if sender:
        header["destination"] = [{"endpoint": sender}]
    if reports:
        header["focus"] = [{"reference": f"{base_url}/{ref}"} for ref in reports]
    entries: list[Json] = [{"fullUrl": f"urn:uuid:{header_id}", "resource": header}]
    if outcome is not None:
        outcome_id = str(uuid.uuid5(DELIVERY_NAMESPACE, seed + "#outcome"))
        header["response"]["details"] = {"reference": f"urn:uuid:{outcome_id}"}
        entries.append({"fullUrl": f"urn:uuid:{outcome_id}", "resource": {**outcome, "id": outcome_id}})
    return {"resourceType": "Bundle", "id": str(uuid.uuid5(DELIVERY_NAMESPACE, seed + "#bundle")),
            "identifier": {"system": URI, "value": f"urn:uuid:{uuid.uuid5(DELIVERY_NAMESPACE, seed)}"},
            "type": "message", "timestamp": instant(now), "entry": entries}
