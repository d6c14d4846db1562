"""The sender of payload type genomic-report-hl7v2 (channels.CHANNELS): each report of the
delivery as an HL7 v2.5.1 ORU^R01 (v2_message) over MLLP (mllp.send) to `mllp://host:port`.

MSH-10 is derived from the delivery's key, not from the content alone: every resend of one
delivery carries the same control id (a receiver that got it before, and whose ACK was lost,
recognises the duplicate), while the same report sent to two Endpoints gets two ids.
ACK AA / CA: delivered. AE / AR (CE / CR): dead letter with the ERR text. No verdict (refused,
timeout, closed, unreadable, mismatched): retried with the worker's backoff.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from . import mllp, v2_message
from .channels import Delivery
from .endpoints import Target

Json = dict[str, Any]
FIELD = "|"  # MSH-1, as v2_message writes it


def control_id(key: str, index: int) -> str:
    """MSH-10 of the `index`-th message of one delivery (a stored Bundle holds one report, but
    nothing stops it holding more)."""
    digest = hashlib.sha256(f"{key}#{index}".encode()).hexdigest()
    return digest[:v2_message.CONTROL_ID_LENGTH].upper()


def with_control_id(message: str, value: str) -> str:
    """The ER7 message with MSH-10 replaced (MSH-1 is the separator, so MSH-10 is the tenth
    item of the first segment split on it, counting MSH itself as the first)."""
    msh, sep, rest = message.partition("\r")
    fields = msh.split(FIELD)
    fields[9] = value
    return FIELD.join(fields) + sep + rest


def messages(delivery: Delivery) -> list[str]:
    return [with_control_id(m, control_id(delivery.key, i))
            for i, m in enumerate(v2_message.bundle_messages(delivery.report))]


def send(target: Target, delivery: Delivery) -> Json:
    from ..worker import Refused, RetryLater, backoff

    where = urlsplit(target.address)
    host, port = where.hostname or "", where.port
    if port is None:
        raise Refused(f"{target.address} names no port", {"endpoint": target.id})
    acks: list[Json] = []
    for message in messages(delivery):
        ack = mllp.send(message, host, port, timeout=target.read_timeout,
                        connect_timeout=target.connect_timeout)
        if ack.dead_letter:
            raise Refused(f"{ack.code} from {target.address}: {ack.text}",
                          {"response": ack.raw, "control_id": ack.control_id, "ack": ack.code})
        if ack.retry:
            raise RetryLater(backoff(delivery.attempt), f"{ack.reason}: {ack.text}")
        acks.append({"control_id": ack.control_id, "ack": ack.code})
    return {"messages": acks}
