"""Test peer: an HL7 v2 MLLP listener (hl7apy's MLLPServer) standing in for a hospital's
interface engine. Not part of the service.

    python tests/peers/mllp_listener.py [--port 0] [--mode accept|reject|silent|drop]
                                        [--mode-file PATH] [--received PATH] [--require-patient]

Prints `listening <port>` on stdout once bound (port 0: the system picks one). Per message:

- accept: parses it STRICT against v2.5.1 (hl7apy) and validates it: ACK AA; AE with an ERR
  segment (ERR-8 = the validation error) when it is invalid, or when --require-patient is given
  and the message has no PID;
- reject: AR with ERR-8 "results are not accepted from this sender";
- silent: reads the message and never answers (the sender's ACK timeout);
- drop: closes the connection without answering.

The mode can be changed while it runs ("on command"): with --mode-file, the file's first word,
read for every message, overrides --mode. With --received, each message's MSH-10 and the answer
given are appended to that file as one JSON line, so a test can count what arrived.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from hl7apy.base_datatypes import FT
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.mllp import AbstractErrorHandler, AbstractHandler, MLLPServer
from hl7apy.parser import parse_message

MODES = ("accept", "reject", "silent", "drop")
STOP = threading.Event()  # set at shutdown: a silent handler waits on it
LOG_LOCK = threading.Lock()


class Drop(Exception):
    """Close the connection without an answer (hl7apy's handler closes on an exception)."""


class Config:
    mode = "accept"
    mode_file: Path | None = None
    received: Path | None = None
    require_patient = False

    @classmethod
    def current_mode(cls) -> str:
        if cls.mode_file and cls.mode_file.exists():
            word = cls.mode_file.read_text().strip()
            if word in MODES:
                return word
        return cls.mode


def ack(incoming: Message | None, code: str, error: str = "") -> str:
    """An ACK (v2.5.1) for `incoming`, MLLP-framed as hl7apy's server expects the reply."""
    out = Message("ACK", version="2.5.1", validation_level=VALIDATION_LEVEL.STRICT)
    if incoming is not None:
        out.msh.msh_3 = incoming.msh.msh_5.to_er7()
        out.msh.msh_4 = incoming.msh.msh_6.to_er7()
        out.msh.msh_5 = incoming.msh.msh_3.to_er7()
        out.msh.msh_6 = incoming.msh.msh_4.to_er7()
    out.msh.msh_7 = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    out.msh.msh_9 = "ACK^R01^ACK"
    out.msh.msh_10 = datetime.now(UTC).strftime("A%H%M%S%f")
    out.msh.msh_11 = "P"
    out.msh.msh_12 = "2.5.1"
    out.msa.msa_1 = code
    out.msa.msa_2 = incoming.msh.msh_10.to_er7() if incoming is not None else ""
    if error:
        err = out.add_segment("ERR")
        err.err_3 = "207^Application error^HL70357"  # THO v2-0357 (2.9): 207 Application error
        err.err_4 = "E"  # THO v2-0516: Error
        err.err_8 = FT(error[:250]).to_er7()
    return out.to_mllp()


def log(control_id: str, answer: str) -> None:
    if Config.received is None:
        return
    with LOG_LOCK, Config.received.open("a") as f:
        f.write(json.dumps({"control_id": control_id, "answer": answer}) + "\n")


class ResultHandler(AbstractHandler):
    def reply(self) -> str:
        mode = Config.current_mode()
        loose = parse_message(self.incoming_message, find_groups=False)
        control_id = loose.msh.msh_10.to_er7()
        log(control_id, mode)
        if mode == "drop":
            raise Drop
        if mode == "silent":
            STOP.wait()
            raise Drop
        if mode == "reject":
            return ack(loose, "AR", "results are not accepted from this sender")
        try:
            parsed = parse_message(self.incoming_message, validation_level=VALIDATION_LEVEL.STRICT,
                                   find_groups=True)
            parsed.validate()
        except Exception as exc:  # the validator's verdict goes back to the sender in ERR-8
            return ack(loose, "AE", f"{type(exc).__name__}: {exc}")
        segments = {s[:3] for s in self.incoming_message.split("\r")}
        if Config.require_patient and "PID" not in segments:
            return ack(loose, "AE", "PID required: a result without a patient cannot be filed")
        return ack(loose, "AA")


class ErrorHandler(AbstractErrorHandler):
    def reply(self) -> str:
        if isinstance(self.exc, Drop):
            raise self.exc
        return ack(None, "AR", f"{type(self.exc).__name__}: {self.exc}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=MODES, default="accept")
    parser.add_argument("--mode-file", type=Path)
    parser.add_argument("--received", type=Path)
    parser.add_argument("--require-patient", action="store_true")
    args = parser.parse_args()
    Config.mode, Config.mode_file = args.mode, args.mode_file
    Config.received, Config.require_patient = args.received, args.require_patient
    handlers = {"ORU^R01^ORU_R01": (ResultHandler,), "ORU^R01": (ResultHandler,),
                "ERR": (ErrorHandler,)}
    server = MLLPServer("127.0.0.1", args.port, handlers, timeout=30)
    server.daemon_threads = True
    # SIGTERM (the fixture's stop) ends serve_forever as Ctrl-C does
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        STOP.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
