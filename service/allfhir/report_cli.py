"""`allfhir report BUNDLE_FILE -o report.html|report.pdf [--sample ID] [--format html|pdf]`.

BUNDLE_FILE is what `allfhir convert` writes (NDJSON, one report Bundle a line) or one Bundle as
JSON. The format follows the output's suffix (.html / .htm / .pdf) unless --format says. One
Bundle -> OUT. Several: `--sample ID` picks the one whose report or specimen names that sample;
without it every Bundle is rendered, each into OUT's name with its sample inserted
(report.pdf -> report-SAMPLE.pdf), so nothing is silently dropped. Without -o one HTML report
goes to stdout. Files appear only when complete (output_file.py); bad input is an
OperationOutcome on stderr and exit 2, as for convert.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from .errors import EXIT_OK, InputError, Problem

Json = dict[str, Any]
SUFFIXES = {".html": "html", ".htm": "html", ".pdf": "pdf"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def read_bundles(path: Path) -> list[tuple[int, Json]]:
    """(line, Bundle) of an NDJSON or JSON file; an InputError naming the line otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem("no such file", file=str(path), code="not-found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(f"cannot read the file: {exc}", file=str(path))) from None
    stripped = text.strip()
    if not stripped:
        raise InputError(Problem("the file is empty: expected a report Bundle", file=str(path),
                                 code="required"))
    try:  # one (possibly pretty-printed) JSON document
        return [(1, _bundle(json.loads(stripped), path, 1))]
    except json.JSONDecodeError:
        pass
    found, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append((number, _bundle(json.loads(line), path, number)))
        except json.JSONDecodeError as exc:
            problems.append(Problem(f"not JSON: {exc.msg} (column {exc.colno})", file=str(path),
                                    row=number, code="structure"))
        except InputError as err:
            problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    return found


def _bundle(doc: Any, path: Path, line: int) -> Json:
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        raise InputError(Problem("not a FHIR Bundle (resourceType is not 'Bundle'): give a file "
                                 "that `allfhir convert` wrote", file=str(path), row=line,
                                 code="structure"))
    if not any((e.get("resource") or {}).get("resourceType") == "DiagnosticReport"
               for e in doc.get("entry") or [] if isinstance(e, dict)):
        raise InputError(Problem("the Bundle holds no DiagnosticReport: not a report Bundle",
                                 file=str(path), row=line, code="required"))
    return doc


def sample_of(bundle: Json) -> str:
    """The sample a report Bundle is about: its specimen's identifier, else its report id."""
    report = next(e["resource"] for e in bundle["entry"]
                  if (e.get("resource") or {}).get("resourceType") == "DiagnosticReport")
    for spec in report.get("specimen", []):
        value = (spec.get("identifier") or {}).get("value")
        if value:
            return str(value)
    ident = (report.get("identifier") or [{}])[0].get("value") or report.get("id", "report")
    return str(ident).rsplit(":", 1)[-1]


def output_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output is None:
        return "html"
    suffix = Path(args.output).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(Problem(f"cannot tell the format from '{suffix or 'no suffix'}': name the "
                                 "output .html or .pdf, or give --format", file=args.output,
                                 code="value"))
    return SUFFIXES[suffix]


def cmd_report(args: argparse.Namespace) -> int:
    from .output_file import bytes_written_whole, same_file, written_whole
    from .report import render_html, render_pdf

    source = Path(args.bundle)
    fmt = output_format(args)
    if args.output and same_file(args.bundle, Path(args.output)):
        raise InputError(Problem("the output file is the input file; choose another -o",
                                 file=args.output, code="conflict"))
    bundles = read_bundles(source)
    if args.sample is not None:
        bundles = [(n, b) for n, b in bundles if sample_of(b) == args.sample]
        if not bundles:
            known = ", ".join(sorted({sample_of(b) for _, b in read_bundles(source)}))
            raise InputError(Problem(f"no report for sample '{args.sample}' in the file; it holds: "
                                     f"{known}", file=str(source), code="not-found"))
    if args.output is None:
        if fmt == "pdf" or len(bundles) > 1:
            raise InputError(Problem("give -o OUT: a PDF, or several reports, are written to files "
                                     f"({len(bundles)} report(s) in the file; --sample picks one)",
                                     file=str(source), code="required"))
        sys.stdout.write(render_html(bundles[0][1]))
        return EXIT_OK
    out = Path(args.output)
    for _, bundle in bundles:
        target = out if len(bundles) == 1 else out.with_name(
            f"{out.stem}-{_UNSAFE.sub('_', sample_of(bundle))}{out.suffix}")
        if fmt == "pdf":
            pdf = render_pdf(bundle)  # rendered before the file opens: a failure leaves none
            with bytes_written_whole(target) as fh:
                fh.write(pdf)
        else:
            html = render_html(bundle)
            with written_whole(target) as fh:
                fh.write(html)
        if len(bundles) > 1:
            print(target, file=sys.stderr)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    rep = sub.add_parser("report", help="render a report Bundle as HTML or PDF for people",
                         description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    rep.add_argument("bundle", metavar="BUNDLE_FILE",
                     help="NDJSON from `allfhir convert` (one Bundle a line) or one Bundle as JSON")
    rep.add_argument("-o", "--output", help="report.html or report.pdf (default: HTML on stdout)")
    rep.add_argument("--format", choices=["html", "pdf"], help="default: from the output's suffix")
    rep.add_argument("--sample", help="render only the report of this sample")
    rep.set_defaults(func=cmd_report)
