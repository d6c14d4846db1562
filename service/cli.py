"""`allfhir` command line: convert | formats | schema (validate, knowledge: see their modules).

Exit codes: 0 ok, 2 bad input (an OperationOutcome on stderr), 1 internal error.
Output: one Bundle per sample as NDJSON (FHIR bulk-data style) on stdout, so it pipes.

Imports are lazy: the pipeline (pydantic models, knowledge, builders) is imported by the command
that runs it, so `import service.cli` and `allfhir --version` cost a few milliseconds, not the
pipeline's start-up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from . import __version__
from .errors import InputError, Problem, operation_outcome
from .jsonout import dumps, dumps_bytes

__all__ = ["build_parser", "dumps", "main"]

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2
# Adapter names for --format, written here so building the parser imports no adapter (the
# adapters import pydantic); tests/test_cli.py checks the list against service.ingest.ADAPTERS.
FORMATS = ("allcatchr", "allsorts", "arriba", "fusioncatcher", "generic_json", "mdall", "star_fusion",
           "vcf")


def __getattr__(name: str) -> Any:
    # PEP 562: `service.cli.convert` is the pipeline entry point, imported on first use only.
    if name == "convert":
        from .convert import convert

        globals()["convert"] = convert
        return convert
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _convert(*args: Any, **kwargs: Any) -> Iterator[Any]:
    return sys.modules[__name__].convert(*args, **kwargs)  # through __getattr__ (or a test's patch)


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


def _binary(stream: TextIO) -> BinaryIO | None:
    """The byte stream under a text stream (stdout), so NDJSON bytes are written as orjson made
    them; None when there is none (an in-memory text stream)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        return None
    stream.flush()  # text already written goes first
    return buffer


def cmd_convert(args: argparse.Namespace) -> int:
    from .fhir.bundle import BuildOptions

    opts = BuildOptions(bundle_type=args.bundle_type, patient=args.patient,
                        effective=args.effective, actionability=not args.no_actionability)
    problems: list[Problem] = []
    out: BinaryIO | None = open(args.output, "wb") if args.output else _binary(sys.stdout)
    progress = Progress(sys.stderr)
    try:
        for item in _convert([Path(p) for p in args.files], args.format, opts, sample_id=args.sample):
            if isinstance(item, InputError):
                problems.extend(item.problems)
                continue
            if out is None:
                sys.stdout.write(dumps(item) + "\n")
            else:
                out.write(dumps_bytes(item) + b"\n")
            progress.tick()
    finally:
        progress.close()
        if args.output and out is not None:
            out.close()
        elif out is not None:
            out.flush()
    if problems:
        print(dumps(operation_outcome(problems)), file=sys.stderr)
        return EXIT_INPUT
    return EXIT_OK


def cmd_formats(args: argparse.Namespace) -> int:
    from . import ingest

    for name, module in sorted(ingest.ADAPTERS.items()):
        print(f"{name:<14} {module.KIND:<11} {module.DESCRIPTION}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    import json

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
    conv.add_argument("--format", choices=FORMATS,
                      help="input format (default: detected per file)")
    conv.add_argument("--patient", help="subject: 'Patient/123' or 'system|value'")
    conv.add_argument("--sample", help="sample id for files that do not name their sample")
    conv.add_argument("--bundle-type", choices=["collection", "transaction"], default="collection")
    conv.add_argument("--effective", help="dateTime of the results (e.g. 2026-11-25)")
    conv.add_argument("--no-actionability", action="store_true",
                      help="leave out therapeutic implications, trials and recommendations")
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
    for module_name in ("service.validation.cli", "service.knowledge_cli", "service.conformance_cli"):
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
