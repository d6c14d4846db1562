"""Delivery throughput and latency: K `allfhir deliver --worker` processes on PostgreSQL sending
transaction Bundles to a real receiver on loopback.

    python benchmarks/delivery_fhir.py [--receiver status|medplum] [-n N] [-k K] [-m M]

Receivers: the status server test peer (answers every transaction at once: the cost is ours),
or the Medplum FHIR engine test peer (real transaction processing, conditional creates searched
in its memory repository). A schema of its own is made in the test database (PostgreSQL 127.0.0.1:5432
db `test`, as the tests use) and dropped at the end.

1. Throughput: N reports (an ALLSorts cohort, one `$convert` through the Flask app: the real
   write path, deliveries queued with the reports) are queued before the K workers start;
   reports/s = N over the time from the first delivery confirmed to the last, scaled by N/(N-1).
2. Latency: with the K workers running and idle, M reports are stored one `$convert` at a time;
   stored -> confirmed = the job's `updated` (written when the receiver's confirmation is kept)
   minus its `created` (written in the transaction that stores the report). Workers poll every
   0.05 s, which bounds the wait of an idle worker.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _tree import REPO

sys.path.insert(0, str(REPO))  # the test peers and the test database helper
from sqlalchemy import select
from tests.api.conftest import Api
from tests.conftest import fresh_database
from tests.exchange.conftest import ADMIN, add_endpoint, start_medplum, start_status_server
from tests.exchange.test_deliver_workers import cohort

from allfhir.api import create_app
from allfhir.settings import Settings
from allfhir.store import apikeys, schema

POLL = "0.05"


def convert(api: Api, csv: bytes) -> None:
    r = api.client.post("/fhir/$convert?format=allsorts", data=csv, content_type="text/csv",
                        headers=api.auth("admin"))
    assert r.status_code == 200, r.get_data(as_text=True)[:2000]


def jobs(api: Api) -> list:
    with api.store.engine.connect() as conn:
        return list(conn.execute(select(schema.jobs).where(schema.jobs.c.kind == "deliver")))


def wait_done(api: Api, n: int, workers: list[subprocess.Popen]) -> list:
    while True:
        rows = jobs(api)
        if len(rows) == n and all(r.state == "done" for r in rows):
            return rows
        if any(r.state in ("failed", "dead-letter") for r in rows) or any(
                w.poll() is not None for w in workers):
            raise SystemExit(f"delivery stopped: {[(r.state, r.error) for r in rows if r.error][:3]}")
        time.sleep(0.02)


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--receiver", choices=("status", "medplum"), default="status")
    ap.add_argument("-n", type=int, default=1000, help="reports queued before the workers start")
    ap.add_argument("-k", type=int, default=3, help="worker processes")
    ap.add_argument("-m", type=int, default=100, help="reports stored one at a time for latency")
    args = ap.parse_args()
    peer = start_medplum() if args.receiver == "medplum" else start_status_server()
    workers: list[subprocess.Popen] = []
    with fresh_database("postgresql", Path("/tmp")) as url:
        app = create_app(Settings(database_url=url))
        store = app.extensions["allfhir.store"]
        api = Api(app, app.test_client(), {"admin": apikeys.create(store, "admin", ADMIN)})
        try:
            add_endpoint(api, peer.url)
            rows = cohort(args.n + args.m).decode().splitlines()
            header, backlog, trickle = rows[0], rows[1:args.n + 1], rows[args.n + 1:]
            convert(api, ("\n".join([header, *backlog]) + "\n").encode())
            env = {**os.environ, "ALLFHIR_DATABASE_URL": url}
            workers = [subprocess.Popen([sys.executable, "-m", "allfhir", "deliver", "--worker",
                                         "--poll", POLL], cwd=REPO, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for _ in range(args.k)]
            done = wait_done(api, args.n, workers)
            backlog_ids = {r.id for r in done}
            confirmed = sorted(r.updated for r in done)
            span = (confirmed[-1] - confirmed[0]).total_seconds()
            rate = (args.n - 1) / span if span else float("inf")
            print(f"{args.receiver}: {args.n} queued, {args.k} workers: {rate:,.0f} reports/s "
                  f"({span:.1f} s first to last confirmation)")
            for row in trickle:
                convert(api, f"{header}\n{row}\n".encode())
            done = wait_done(api, args.n + args.m, workers)
            latency = sorted((r.updated - r.created).total_seconds() * 1000
                             for r in done if r.id not in backlog_ids)
            print(f"{args.receiver}: stored -> confirmed over {len(latency)} reports stored one at "
                  f"a time: p50 {percentile(latency, 50):.0f} ms, p99 {percentile(latency, 99):.0f} ms")
        finally:
            for w in workers:
                w.terminate()
                w.wait(timeout=30)
            store.dispose()
            peer.stop()


if __name__ == "__main__":
    main()
