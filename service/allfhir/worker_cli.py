"""`allfhir worker [--kind K ...] [--once]`: run queued background work (see worker.py)."""

from __future__ import annotations

import argparse


def cmd_worker(args: argparse.Namespace) -> int:
    import logging

    from .settings import Settings  # on use: building the CLI parser stays light
    from .store import upgrade
    from .store.migrate import is_empty
    from .worker import Worker

    settings = Settings()
    if is_empty(settings.database_url):
        upgrade(settings.database_url)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    worker = Worker(settings, args.kind, lease=args.lease, max_attempts=args.max_attempts)
    if args.once:
        while worker.run_once():
            pass
    else:
        worker.run(poll=args.poll)
    return 0


def add_run_options(p: argparse.ArgumentParser, what: str, max_attempts: int) -> None:
    """The options of a worker run, shared with `allfhir deliver --worker` (`what`: the job
    named in the help)."""
    p.add_argument("--once", action="store_true", help=f"run what is due ({what} jobs), then exit")
    p.add_argument("--poll", type=float, default=1.0, help="seconds between polls when idle")
    p.add_argument("--lease", type=float, default=120.0,
                   help=f"seconds a claimed {what} stays ours without a heartbeat")
    p.add_argument("--max-attempts", type=int, default=max_attempts,
                   help=f"attempts before a {what} is kept as failed (default {max_attempts})")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="run queued background work (async conversions, delivery)")
    p.add_argument("--kind", action="append", help="only jobs of this kind (repeatable)")
    add_run_options(p, "job", max_attempts=8)
    p.set_defaults(func=cmd_worker)
