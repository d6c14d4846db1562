"""Send one HL7 v2 message over MLLP and say what became of it.

`send(message, host, port, timeout)` opens a connection (python-hl7's asyncio MLLP streams),
writes the message in its MLLP block, reads one ACK block and closes. It never raises for what the
network or the receiver did: the answer is an `Ack` whose `outcome` tells the delivery outbox
what to do next:

- `accepted`: MSA-1 AA (or CA, enhanced mode): the receiver has the message; never send it again.
- `rejected`: MSA-1 AE / AR (CE / CR): the receiver read it and refuses it; sending it again
  gives the same answer, so the caller dead-letters it with `text` (the ERR segments' text).
- `retry`: no verdict: connection refused or reset, no ACK within the timeout, a closed
  connection, an unreadable ACK or an ACK for another message. The receiver may or may not have
  the message; the caller sends it again later (MSH-10 is the same, so a receiver can drop a
  duplicate).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum

import hl7
from hl7.exceptions import ParseException
from hl7.mllp import InvalidBlockError, open_hl7_connection

# HL7 table 0008 (acknowledgment code), read in THO v2-0008 (version 2.9).
ACCEPT_CODES = frozenset({"AA", "CA"})
REJECT_CODES = frozenset({"AE", "AR", "CE", "CR"})


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class Ack:
    outcome: Outcome
    code: str | None = None  # MSA-1 as received (None when no ACK came back)
    text: str = ""  # ERR / MSA-3 text of a rejection, or what went wrong on the way
    reason: str = ""  # for RETRY: refused | timeout | closed | unreadable | mismatched
    control_id: str | None = None  # MSA-2: the MSH-10 the receiver acknowledged
    raw: str | None = None  # the ACK message (segments separated by \r)

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    @property
    def dead_letter(self) -> bool:
        return self.outcome is Outcome.REJECTED

    @property
    def retry(self) -> bool:
        return self.outcome is Outcome.RETRY


def send(message: str, host: str, port: int, timeout: float = 10.0,
         connect_timeout: float | None = None) -> Ack:
    """Deliver one ER7 message (segments separated by \\r). `timeout` bounds the wait for the
    ACK after the message is written; `connect_timeout` (default: `timeout`) bounds the connect."""
    return asyncio.run(_send(message, host, port, timeout,
                             timeout if connect_timeout is None else connect_timeout))


async def _send(message: str, host: str, port: int, timeout: float,
                connect_timeout: float) -> Ack:
    try:
        reader, writer = await asyncio.wait_for(
            open_hl7_connection(host, port, encoding="utf-8"), connect_timeout)
    except TimeoutError:
        return Ack(Outcome.RETRY, reason="timeout", text=f"no connection to {host}:{port} "
                   f"within {connect_timeout:g} s")
    except OSError as exc:  # ConnectionRefusedError, unreachable host, DNS
        return Ack(Outcome.RETRY, reason="refused", text=f"{host}:{port}: {exc.strerror or exc}")
    try:
        writer.writeblock(message.encode("utf-8"))
        await asyncio.wait_for(writer.drain(), timeout)
        block = await asyncio.wait_for(reader.readblock(), timeout)
    except TimeoutError:
        return Ack(Outcome.RETRY, reason="timeout",
                   text=f"no ACK from {host}:{port} within {timeout:g} s")
    except (asyncio.IncompleteReadError, OSError) as exc:  # reset, broken pipe, host gone
        return Ack(Outcome.RETRY, reason="closed",
                   text=f"{host}:{port} closed the connection without an ACK ({type(exc).__name__})")
    except (InvalidBlockError, ValueError) as exc:  # ValueError: a block over the 64 KiB limit
        return Ack(Outcome.RETRY, reason="unreadable", text=f"not an MLLP ACK block: {exc}")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return read_ack(block.decode("utf-8", "replace"), _control_id(message))


def read_ack(raw: str, sent_control_id: str | None) -> Ack:
    """An ACK message -> Ack. Lenient (python-hl7), as receivers' ACKs vary."""
    try:
        ack = hl7.parse(raw)
        msa = ack.segment("MSA")
    except (ParseException, KeyError, ValueError, IndexError) as exc:
        return Ack(Outcome.RETRY, reason="unreadable", raw=raw,
                   text=f"not an ACK with an MSA segment ({type(exc).__name__}: {exc})")
    code = _field(msa, 1)
    acked = _field(msa, 2)
    if sent_control_id and acked != sent_control_id:
        return Ack(Outcome.RETRY, code=code, reason="mismatched", control_id=acked, raw=raw,
                   text=f"ACK for message {acked!r}, not {sent_control_id!r}")
    if code in ACCEPT_CODES:
        return Ack(Outcome.ACCEPTED, code=code, control_id=acked, raw=raw)
    if code in REJECT_CODES:
        return Ack(Outcome.REJECTED, code=code, control_id=acked, raw=raw,
                   text=_error_text(ack, msa))
    return Ack(Outcome.RETRY, code=code, reason="unreadable", control_id=acked, raw=raw,
               text=f"MSA-1 {code!r} is not an acknowledgment code")


def _error_text(ack: hl7.Message, msa: hl7.Segment) -> str:
    """What the receiver said: per ERR segment its user message (ERR-8), else its diagnostic
    (ERR-7), else its error code's text (ERR-3.2); with no ERR text, MSA-3 (v2.4 and before)."""
    texts = []
    errors = [s for s in ack if str(s[0]) == "ERR"]
    for err in errors:
        said = _field(err, 8) or _field(err, 7) or [*_field(err, 3).split("^"), "", ""][1]
        if said:
            texts.append(ack.unescape(said))
    if not texts and _field(msa, 3):
        texts.append(ack.unescape(_field(msa, 3)))
    return "; ".join(texts)


def _field(segment: hl7.Segment, n: int) -> str:
    """Field n of a segment as ER7 text ("" when the segment is shorter)."""
    return str(segment(n)) if len(segment) > n else ""


def _control_id(message: str) -> str | None:
    try:
        return _field(hl7.parse(message).segment("MSH"), 10) or None
    except (ParseException, KeyError, ValueError, IndexError):
        return None
