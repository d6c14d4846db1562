"""`allfhir` command line: convert | formats | schema (validate, knowledge, report: see their modules).

Exit codes: 0 ok, 2 bad input (an OperationOutcome on stderr), 1 internal error, 128 + the signal
number when interrupted (130 SIGINT / Ctrl-C, 143 SIGTERM).
Output: one Bundle per sample as NDJSON (FHIR bulk-data style) on stdout, so it pipes, or into
`-o OUT`, which appears only when the run has ended (service/output_file.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, InputError, Problem, operation_outcome
from .jsonout import dumps
from .output_file import same_file, written_whole

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "EXIT_OK", "build_parser", "dumps", "main"]

# Adapter names for --format, written here so building the parser imports no adapter (the
# adapters import pydantic); tests/test_cli.py checks the list against allfhir.ingest.ADAPTERS.
FORMATS = ("allcatchr", "allsorts", "arriba", "fusioncatcher", "generic_json", "mdall", "star_fusion",
           "vcf")


def __getattr__(name: str) -> Any:
    # PEP 562: `allfhir.cli.convert` is the pipeline entry point, imported on first use only, so
    # `import allfhir.cli` and `allfhir --version` do not pay the pipeline's start-up.
    if name == "convert":
        from .convert import convert

        globals()["convert"] = convert
        return convert
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _convert(*args: Any, **kwargs: Any) -> Iterator[Any]:
    return sys.modules[__name__].convert(*args, **kwargs)  # through __getattr__ (or a test's patch)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, as KeyboardInterrupt is, so that no
    `except Exception` on the way up mistakes it for a failure of the input."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    def exit_code(self) -> int:
        return 128 + self.signum

    def outcome(self, converted: int | None = None, output: str | None = None) -> dict:
        message = f"interrupted by {signal.Signals(self.signum).name}"
        if converted is not None:
            message += f" after {converted} sample(s) were converted"
        if output is not None:
            message += f"; {output} was not written"
        return operation_outcome([Problem(message, code="incomplete")])


def _interrupt(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


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
    from .environment import any_setting
    from .fhir.bundle import BuildOptions, id_systems
    from .fhir.common import IdSystems, effective_problem, order_problem, reference_problem

    wrong = [p for p in (args.specimen and reference_problem("--specimen", args.specimen, "Specimen"),
                         args.order and order_problem(args.order),
                         args.effective and effective_problem("--effective", args.effective)) if p]
    if wrong:
        raise InputError([Problem(p, code="value") for p in wrong])
    # the same ALLFHIR_* identifier systems as the service: a lab's reports name its namespaces
    # (no ALLFHIR_* variable: every setting is its default, and pydantic-settings is not imported)
    if any_setting():
        from .settings import Settings

        systems = id_systems(Settings())
    else:
        systems = IdSystems()
    opts = BuildOptions(bundle_type=args.bundle_type, patient=args.patient,
                        effective=args.effective, actionability=not args.no_actionability,
                        assembly=args.assembly, reviewed=args.reviewed, specimen=args.specimen,
                        order=args.order, systems=systems)
    output = Path(args.output) if args.output else None
    if output is not None and any(same_file(f, output) for f in args.files):
        raise InputError(Problem("the output file is one of the input files; choose another -o",
                                 file=str(output), code="conflict"))
    problems: list[Problem] = []
    warnings: list[Problem] = []
    progress = Progress(sys.stderr)
    pdf = args.presented_form == "pdf"
    try:
        with written_whole(output) if output else contextlib.nullcontext(sys.stdout) as out:
            # Bundles only written come as their JSON text (no copy of each made for us to
            # change); a PDF is added to a Bundle first.
            for item in _convert([Path(p) for p in args.files], args.format, opts,
                                sample_id=args.sample, warn=warnings.append, as_json=not pdf):
                if isinstance(item, InputError):
                    problems.extend(item.problems)
                    continue
                if pdf:
                    from .report.embed import with_pdf

                    out.write(dumps(with_pdf(item)))
                else:
                    out.write(item.decode("utf-8"))
                out.write("\n")
                progress.tick()
    except Interrupted as stop:
        progress.close()
        print(dumps(stop.outcome(progress.count, args.output)), file=sys.stderr)
        return stop.exit_code()
    progress.close()
    if problems or warnings:
        print(dumps(operation_outcome(problems + warnings)), file=sys.stderr)
    return EXIT_INPUT if problems else EXIT_OK


def cmd_formats(args: argparse.Namespace) -> int:
    from . import ingest

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
    conv.add_argument("--format", choices=FORMATS,
                      help="input format (default: detected per file)")
    conv.add_argument("--patient", help="subject: 'Patient/123' or 'system|value'")
    conv.add_argument("--sample", help="sample id for files that do not name their sample")
    conv.add_argument("--specimen", help="the specimen: 'Specimen/123' or 'system|value' "
                      "(default: the sample id in the sample-id system)")
    conv.add_argument("--order", help="the order (ServiceRequest) identifier, 'system|value' or a "
                      "value in ALLFHIR_ORDER_ID_SYSTEM: the report's basedOn")
    conv.add_argument("--bundle-type", choices=["collection", "transaction"], default="collection")
    conv.add_argument("--effective", help="dateTime of the results (e.g. 2026-11-25)")
    conv.add_argument("--no-actionability", action="store_true",
                      help="leave out therapeutic implications, trials and recommendations")
    conv.add_argument("--assembly", choices=["GRCh37", "GRCh38"],
                      help="reference assembly of fusion breakpoints (the caller files do not "
                      "say; left out of the output when not given)")
    conv.add_argument("--reviewed", action="store_true",
                      help="a haematopathologist reviewed the case: discordant and dual-driver "
                      "reports are final, not preliminary")
    conv.add_argument("--presented-form", choices=["pdf"],
                      help="also embed the rendered report as the DiagnosticReport's presentedForm "
                      "(application/pdf, beside the HTML)")
    conv.add_argument("-o", "--output", help="write NDJSON here instead of stdout")
    conv.set_defaults(func=cmd_convert)

    fmts = sub.add_parser("formats", help="list supported input formats")
    fmts.set_defaults(func=cmd_formats)
    schema = sub.add_parser("schema", help="print the JSON Schema of the generic JSON input")
    schema.set_defaults(func=cmd_schema)
    for register in _extensions():
        register(sub)
    return parser


# one per line: each subcommand module added is a one-line change
EXTENSIONS = (
    "allfhir.validation.cli",
    "allfhir.knowledge_cli",
    "allfhir.conformance_cli",
    "allfhir.db_cli",
    "allfhir.apikey_cli",
    "allfhir.serve_cli",
    "allfhir.worker_cli",
    "allfhir.v2_cli",
    "allfhir.report_cli",
    "allfhir.user_cli",
    "allfhir.endpoint_cli",
    "allfhir.deliver_cli",
)


def _extensions() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Subcommands living in their own modules (validate, knowledge) register themselves."""
    found = []
    for module_name in EXTENSIONS:
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
    previous = {signum: signal.signal(signum, _interrupt) for signum in STOP_SIGNALS}
    try:
        return int(args.func(args))
    except Interrupted as stop:
        print(dumps(stop.outcome()), file=sys.stderr)
        return stop.exit_code()
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
    finally:
        # main() also runs inside other programs (the tests): give their handlers back.
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
