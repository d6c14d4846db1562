"""Delivery over MLLP: N reports queued for one HL7 v2 Endpoint, sent by one worker to the MLLP
listener test peer (tests/peers/mllp_listener.py, its own process on 127.0.0.1, mode accept: each
message is parsed STRICT and validated before the AA).

    python benchmarks/delivery_mllp.py [N] [DATABASE_URL]   (default: 500, a temporary SQLite)

The N reports are one ALLSorts cohort (the README example's probabilities, one sample id each)
converted in one `$convert` through the Flask app, which queues the N deliveries in the
transaction that stores the reports. Then one in-process worker (worker.Worker, kind deliver)
runs until none is due: messages/s (wall, and per CPU second of this process; the listener's
CPU is its own), the time each delivery took from its claim to the ACK (the ORU^R01 built from
the stored Bundle, one connection, the listener's validation), and from the report stored (the
job's `created`) to the ACK (the job's `updated` when done), which with all N queued at once is
mostly the wait behind the others, p50 / p99. Prints the load average, as the machine is shared.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _tree import REPO

sys.path.insert(0, str(REPO))  # the cohort the delivery tests post
from tests.exchange.test_deliver_workers import cohort

from allfhir.api import create_app
from allfhir.exchange import endpoints as endpoint_resources
from allfhir.settings import Settings
from allfhir.store import apikeys, jobs, upgrade
from allfhir.store import endpoints as stored_endpoints
from allfhir.worker import Worker

LISTENER = REPO / "tests" / "peers" / "mllp_listener.py"
SCOPES = ["system/*.read", "system/*.write", "system/Endpoint.cruds"]


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 \
        else values[0]


def main(n: int, url: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-mllp-"))
    received = work / "received.jsonl"
    peer = subprocess.Popen([sys.executable, str(LISTENER), "--port", "0", "--received",
                             str(received)], stdout=subprocess.PIPE, text=True)
    try:
        assert peer.stdout is not None
        port = int(peer.stdout.readline().split()[1])
        upgrade(url)
        settings = Settings(database_url=url)
        app = create_app(settings)
        store = app.extensions["allfhir.store"]
        key = apikeys.create(store, "bench", SCOPES)
        served, secret = endpoint_resources.check(endpoint_resources.resource(
            f"mllp://127.0.0.1:{port}", "genomic-report-hl7v2"))
        stored_endpoints.create(store, served, secret)
        r = app.test_client().post("/fhir/$convert?format=allsorts", data=cohort(n),
                                   content_type="text/csv",
                                   headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200, r.get_data(as_text=True)[:2000]
        worker = Worker(settings, ["deliver"], name="bench")
        load = os.getloadavg()
        sends: list[float] = []
        wall, cpu = time.perf_counter(), time.process_time()
        while True:
            t = time.perf_counter()
            if not worker.run_once():
                break
            sends.append(time.perf_counter() - t)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        done = jobs.of_kind(store, "deliver")
        states = Counter(j.state for j in done)
        assert states == {"done": n}, states
        arrived = Counter(line.split('"control_id": "')[1][:20]
                          for line in received.read_text().splitlines())
        assert len(arrived) == n and set(arrived.values()) == {1}, "a message lost or sent twice"
        stored_to_ack = [(j.updated - j.created).total_seconds() for j in done]
        print(f"{n} messages, one worker, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
        print(f"  {n / wall:,.1f} messages/s wall ({wall:.2f} s), {n / cpu:,.1f} per CPU second")
        print(f"  claim -> ACK   p50 {pct(sends, 50) * 1000:.1f} ms  p99 {pct(sends, 99) * 1000:.1f} ms")
        print(f"  stored -> ACK  p50 {pct(stored_to_ack, 50):.2f} s  p99 {pct(stored_to_ack, 99):.2f} s"
              " (all queued at once)")
        worker.store.dispose()
        store.dispose()
    finally:
        peer.terminate()
        peer.wait(timeout=10)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    if len(sys.argv) > 2:
        main(count, sys.argv[2])
    else:
        with tempfile.TemporaryDirectory() as d:
            main(count, f"sqlite:///{d}/bench.db")
