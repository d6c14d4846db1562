"""`allfhir serve [--host H] [--port P] [--workers N]`: the REST service under gunicorn.

Gunicorn's documented custom-application hook runs the app factory in each worker; an empty
database is migrated first, once, in the master process.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
from typing import Any


def cmd_serve(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger

    from .api.logs import gunicorn_config
    from .settings import Settings  # on use: building the CLI parser stays light
    from .store import upgrade
    from .store.migrate import is_empty

    settings = Settings()
    # $convert passes each upload through a temporary folder (the pipeline reads files): on
    # tmpfs that costs a tenth of a millisecond, on a busy disk tens (benchmarks/README.md).
    # TMPDIR, when set, still decides.
    if "TMPDIR" not in os.environ and os.path.isdir("/dev/shm"):
        tempfile.tempdir = "/dev/shm"
    if is_empty(settings.database_url):
        upgrade(settings.database_url)

    class ServerLogger(Logger):  # type: ignore[misc]
        """gunicorn's logger without its access log: the request log is ours (route templates,
        no query strings), and gunicorn would still build each access line's atoms to drop them."""

        def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
            return None

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{args.host}:{args.port}", "workers": args.workers,
                "worker_class": args.worker_class, "threads": args.threads,
                "accesslog": None,  # our own request log carries no query strings (PHI)
                "logger_class": ServerLogger,
                "logconfig_dict": gunicorn_config(),  # JSON lines, ours and gunicorn's
                "timeout": 60, "graceful_timeout": 10,
                # the workers' heartbeat files: on tmpfs, not on a (container overlay) disk where
                # their updates can stall a worker (gunicorn's own advice for Docker)
                "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from .api import create_app

            app = create_app(settings)
            # What the worker loaded to serve (the knowledge, the routes, the libraries) lives
            # as long as it does; frozen, the cyclic collector's full passes no longer walk it.
            # Unfrozen, each full pass took 47-70 ms under load, stalling every request queued
            # behind it: the read's p99 (benchmarks/README.md). Start-up's own garbage is
            # collected first, not kept for good.
            gc.collect()
            gc.freeze()
            return app

    Server().run()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the FHIR REST service (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=4, help="threads per worker (gthread)")
    serve.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"],
                       help="gunicorn worker class (sync: one request at a time per worker)")
    serve.set_defaults(func=cmd_serve)
