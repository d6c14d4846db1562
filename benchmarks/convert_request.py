"""CPU time of one `POST /fhir/$convert` in process, without gunicorn or the network: the app's
WSGI callable on a fresh SQLite file (or the PostgreSQL named, an empty schema), every request a
new single-sample generic JSON body (so each one is converted and stored, never answered as a
resubmission).

    python benchmarks/convert_request.py [--requests 300] [--database-url URL] [--profile cumulative]

Prints the best of three runs in CPU ms/request (time.process_time: the cost of a request
whatever share of the cores other work takes; PostgreSQL's own CPU is not in it); --profile also
prints a cProfile of one more run, timed in CPU time, sorted as asked. ALLFHIR_BENCH_TREE
measures another source tree (benchmarks/_tree.py).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from _tree import REPO

SAMPLE = REPO / "tests" / "data" / "classifiers" / "generic-single.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per timed run")
    parser.add_argument("--database-url")
    parser.add_argument("--profile", metavar="SORT", help="also profile a run (cumulative, tottime)")
    args = parser.parse_args()

    from werkzeug.test import EnvironBuilder

    from allfhir.api import create_app
    from allfhir.settings import Settings
    from allfhir.store import apikeys, upgrade

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url))
    key = apikeys.create(app.extensions["allfhir.store"], f"bench-{time.time_ns()}",
                         ["system/*.read", "system/*.write"])
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    template = json.loads(SAMPLE.read_bytes())
    made = 0

    def environs(n: int) -> list[dict[str, Any]]:
        nonlocal made
        out = []
        for _ in range(n):
            made += 1
            template["sample_id"] = f"BENCH-{time.time_ns()}-{made}"
            out.append(EnvironBuilder(path="/fhir/$convert", method="POST",
                                      data=json.dumps(template).encode(), headers=headers).get_environ())
        return out

    def run(n: int, profile: cProfile.Profile | None = None) -> float:
        requests = environs(n)  # built before the clock starts: the client's work, not the server's
        start = time.process_time()
        if profile:
            profile.enable()
        for environ in requests:
            status: list[str] = []
            body = app.wsgi_app(environ, lambda s, _h, _exc=None, status=status: status.append(s))
            b"".join(body)
            getattr(body, "close", lambda: None)()
            if not status[0].startswith("200"):
                raise SystemExit(f"$convert answered {status[0]}")
        if profile:
            profile.disable()
        return (time.process_time() - start) / n * 1000

    run(30)  # warm: caches, compiled statements, the knowledge base
    best = min(run(args.requests) for _ in range(3))
    print(f"$convert (1 sample), in process: {best:.2f} CPU ms/request (best of 3 x {args.requests}; "
          f"{'PostgreSQL' if args.database_url else 'SQLite'})")
    if args.profile:
        profile = cProfile.Profile(time.process_time)
        run(args.requests, profile)
        pstats.Stats(profile).sort_stats(args.profile).print_stats(50)


if __name__ == "__main__":
    main()
