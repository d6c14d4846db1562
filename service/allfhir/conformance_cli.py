"""`allfhir profiles generate`: regenerate profiles/input/fsh/generated/ from mappings/."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    profiles = sub.add_parser("profiles", help="FHIR conformance artefacts (profiles/, FSH + SUSHI)")
    actions = profiles.add_subparsers(dest="profiles_command", required=True)
    generate = actions.add_parser("generate", help="write profiles/input/fsh/generated/ from mappings/")
    generate.add_argument("--profiles", type=Path, default=None, help="profiles/ directory (default: repo's)")
    generate.set_defaults(func=cmd_generate)


def cmd_generate(args: argparse.Namespace) -> int:
    from . import conformance  # imported by the command: it reads the knowledge

    for path in conformance.generate(args.profiles):
        print(path)
    return 0
