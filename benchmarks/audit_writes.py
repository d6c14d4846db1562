"""What one audited request costs the disk: N AuditEvents of a read (one entity each), each
committed on its own as a sync worker commits them, on a fresh SQLite file with the background
checkpoints running. Prints the bytes the process wrote to storage per event (/proc/self/io
`write_bytes`: the WAL frames and the checkpoints' copies, the load behind the fsyncs that make
the read's tail on SQLite), the CPU time per event and the database's size.

    python benchmarks/audit_writes.py [--events 20000]

Linux only (/proc/self/io). The last line is a JSON object of the figures, so
`compare.py /tmp/before 3 audit_writes.py` gives before/after medians (ALLFHIR_BENCH_TREE:
benchmarks/_tree.py).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import _tree  # noqa: F401  (puts the measured tree on sys.path)


def written_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise SystemExit("no write_bytes in /proc/self/io")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()

    from allfhir.store import audit, upgrade
    from allfhir.store.engine import Store

    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "allfhir.sqlite"
        url = f"sqlite:///{database}"
        upgrade(url)
        store = Store(url)
        before, cpu = written_bytes(), time.process_time()
        for i in range(args.events):
            # as the API records a read: one entity, reports spread over a few hundred ids
            audit.record(store, {
                "resourceType": "AuditEvent", "action": "R", "outcome": "0",
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
                         "code": "rest"},
                "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": "read"}],
                "agent": [{"who": {"display": "bench"}, "requestor": True}],
                "entity": [{"what": {"reference": f"DiagnosticReport/r{i % 500}"}}]})
        cpu = time.process_time() - cpu
        time.sleep(3 * store.checkpoints.interval)  # the last checkpoint's copy is counted too
        store.dispose()
        figures = {"events": args.events,
                   "kib_written_per_event": round((written_bytes() - before) / args.events / 1024, 2),
                   "cpu_us_per_event": round(cpu / args.events * 1e6, 1),
                   "database_mib": round(database.stat().st_size / 2**20, 1)}
    print(f"{figures['events']} AuditEvents: {figures['kib_written_per_event']} KiB written and "
          f"{figures['cpu_us_per_event']} CPU us each; database {figures['database_mib']} MiB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
