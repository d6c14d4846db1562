"""`allfhir v2 export | send BUNDLE_FILE`: converted report Bundles as HL7 v2.5.1 ORU^R01.

BUNDLE_FILE is what `allfhir convert` writes: NDJSON, one Bundle per line (`-` = stdin).
`export` prints one message per report, segments separated by \\r, messages by a newline.
`send` delivers each over MLLP and prints one JSON line per message (the ACK's verdict); exit 0
when every message was accepted, 2 when one was rejected (AE/AR), 1 when one got no verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from .errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, InputError, Problem

PARTIES = ("sending_application", "sending_facility", "receiving_application", "receiving_facility")


def bundles(path: str) -> Iterator[dict[str, Any]]:
    """The Bundles of an NDJSON file, each checked to be a Bundle (an InputError names the line)."""
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
    try:
        for row, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                bundle = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(Problem(f"not JSON: {exc.msg}", file=path, row=row,
                                         code="structure")) from None
            if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
                raise InputError(Problem("expected a FHIR Bundle (one per line, as `allfhir "
                                         "convert` writes)", file=path, row=row, code="structure"))
            yield bundle
    finally:
        if stream is not sys.stdin:
            stream.close()


def _messages(args: argparse.Namespace) -> Iterator[str]:
    from .exchange.v2_message import Parties, bundle_messages

    given = {name: getattr(args, name) for name in PARTIES if getattr(args, name)}
    parties = Parties(**given)
    for bundle in bundles(args.file):
        yield from bundle_messages(bundle, parties, sent_at=args.sent_at)


def cmd_export(args: argparse.Namespace) -> int:
    for message in _messages(args):
        sys.stdout.write(message)
        sys.stdout.write("\n")
    return EXIT_OK


def cmd_send(args: argparse.Namespace) -> int:
    from .exchange.mllp import send

    worst = EXIT_OK
    for message in _messages(args):
        ack = send(message, args.host, args.port, timeout=args.timeout)
        print(json.dumps({"control_id": ack.control_id, "outcome": str(ack.outcome),
                          "code": ack.code, "text": ack.text, "reason": ack.reason or None}))
        if ack.dead_letter:
            worst = EXIT_INPUT
        elif ack.retry and worst == EXIT_OK:
            worst = EXIT_INTERNAL
    return worst


def register(sub: argparse._SubParsersAction) -> None:
    v2 = sub.add_parser("v2", help="report Bundles as HL7 v2.5.1 ORU^R01 (export, send over MLLP)")
    vsub = v2.add_subparsers(dest="v2_command", required=True)
    export = vsub.add_parser("export", help="print an ORU^R01 per report (segments split by \\r)")
    send = vsub.add_parser("send", help="send each report's ORU^R01 over MLLP")
    for p in (export, send):
        p.add_argument("file", help="converted Bundles, NDJSON (`allfhir convert` output), or -")
        p.add_argument("--sent-at", help="MSH-7 (FHIR dateTime; default: the report's issued or "
                       "effective time, else now)")
        for name in PARTIES:  # MSH-3..6; defaults: exchange.v2_message.Parties
            p.add_argument(f"--{name.replace('_', '-')}")
    send.add_argument("--host", default="127.0.0.1")
    send.add_argument("--port", type=int, required=True)
    send.add_argument("--timeout", type=float, default=10.0, help="seconds to connect / wait for the ACK")
    export.set_defaults(func=cmd_export)
    send.set_defaults(func=cmd_send)
