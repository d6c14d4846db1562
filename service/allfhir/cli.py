"""`allfhir` command line: convert | formats | schema (validate, knowledge: see their modules).

Exit codes: 0 ok, 2 bad input (an OperationOutcome on stderr), 1 internal error.
Output: one Bundle per sample as NDJSON (FHIR bulk-data style) on stdout, so it pipes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from . import __version__, ingest
from .convert import convert
from .errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, InputError, Problem, operation_outcome
from .fhir.bundle import BuildOptions

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "EXIT_OK", "main"]


def dumps(resource: dict) -> str:
    # Compact, key order as built: the same input gives byte-identical output.
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":"))


class Progress:
    """A one-line counter on stderr, only when stderr is a terminal (never in pipes or CI)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.count = 0
        self.start = time.monotonic()
        self.last = 0.0

    def tick(self) -> None:
        self.count += 1
        now = time.monotonic()
        if self.enabled and now - self.last > 0.2:
            self.last = now
            rate = self.count / max(now - self.start, 1e-9)
            self.stream.write(f"\rconverted {self.count} samples ({rate:,.0f}/s)")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.count:
            self.stream.write(f"\rconverted {self.count} samples{' ' * 20}\n")


def cmd_convert(args: argparse.Namespace) -> int:
    opts = BuildOptions(bundle_type=args.bundle_type, patient=args.patient,
                        effective=args.effective, actionability=not args.no_actionability,
                        assembly=args.assembly)
    problems: list[Problem] = []
    out: TextIO
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    progress = Progress(sys.stderr)
    try:
        for item in convert([Path(p) for p in args.files], args.format, opts, sample_id=args.sample):
            if isinstance(item, InputError):
                problems.extend(item.problems)
                continue
            out.write(dumps(item))
            out.write("\n")
            progress.tick()
    finally:
        progress.close()
        if out is not sys.stdout:
            out.close()
    if problems:
        print(dumps(operation_outcome(problems)), file=sys.stderr)
        return EXIT_INPUT
    return EXIT_OK


def cmd_formats(args: argparse.Namespace) -> int:
    for name, module in sorted(ingest.ADAPTERS.items()):
        print(f"{name:<14} {module.KIND:<11} {module.DESCRIPTION}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from .ingest import generic_json

    print(json.dumps(generic_json.json_schema(), indent=2))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="allfhir",
        description="BCP-ALL classifier output -> HL7 FHIR R4 Genomics Reporting bundles",
    )
    parser.add_argument("--version", action="version", version=f"allfhir {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    conv = sub.add_parser("convert", help="convert classifier / fusion / VCF files to FHIR")
    conv.add_argument("files", nargs="+", help="a classifier file plus its companion files")
    conv.add_argument("--format", choices=sorted(ingest.ADAPTERS),
                      help="input format (default: detected per file)")
    conv.add_argument("--patient", help="subject: 'Patient/123' or 'system|value'")
    conv.add_argument("--sample", help="sample id for files that do not name their sample")
    conv.add_argument("--bundle-type", choices=["collection", "transaction"], default="collection")
    conv.add_argument("--effective", help="dateTime of the results (e.g. 2026-11-25)")
    conv.add_argument("--no-actionability", action="store_true",
                      help="leave out therapeutic implications, trials and recommendations")
    conv.add_argument("--assembly", choices=["GRCh37", "GRCh38"],
                      help="reference assembly of fusion breakpoints (the caller files do not "
                      "say; left out of the output when not given)")
    conv.add_argument("-o", "--output", help="write NDJSON here instead of stdout")
    conv.set_defaults(func=cmd_convert)

    fmts = sub.add_parser("formats", help="list supported input formats")
    fmts.set_defaults(func=cmd_formats)
    schema = sub.add_parser("schema", help="print the JSON Schema of the generic JSON input")
    schema.set_defaults(func=cmd_schema)
    for register in _extensions():
        register(sub)
    return parser


def _extensions() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Subcommands living in their own modules (validate, knowledge) register themselves."""
    found = []
    for module_name in ("allfhir.validation.cli", "allfhir.knowledge_cli", "allfhir.conformance_cli",
                        "allfhir.db_cli", "allfhir.apikey_cli", "allfhir.serve_cli"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        found.append(module.register)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as err:
        print(dumps(err.operation_outcome()), file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        detail = traceback.format_exc(limit=-3) if "ALLFHIR_DEBUG" in os.environ else ""
        outcome = operation_outcome([Problem(f"internal error: {type(exc).__name__}: {exc}",
                                             code="exception")])
        print(dumps(outcome), file=sys.stderr)
        if detail:
            print(detail, file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
