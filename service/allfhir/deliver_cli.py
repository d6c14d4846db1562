"""`allfhir deliver --worker [--once]`: a worker for deliveries only (jobs of kind `deliver`).

Several may run against PostgreSQL (claims skip each other's rows); on SQLite run one. A
delivery is retried with backoff for up to `--max-attempts` attempts, then kept as a dead letter
until `POST /fhir/DiagnosticReport/{id}/$retry`.
"""

from __future__ import annotations

import argparse
import sys


def cmd_deliver(args: argparse.Namespace) -> int:
    from .worker_cli import cmd_worker

    if not args.worker:
        print("allfhir deliver: say --worker (deliveries are queued when reports are stored)",
              file=sys.stderr)
        return 2
    args.kind = ["deliver"]
    return cmd_worker(args)


def register(sub: argparse._SubParsersAction) -> None:
    from .worker_cli import add_run_options

    p = sub.add_parser("deliver", help="deliver stored reports to their Endpoints")
    p.add_argument("--worker", action="store_true", help="run a delivery worker")
    add_run_options(p, "delivery", max_attempts=20)
    p.set_defaults(func=cmd_deliver)
