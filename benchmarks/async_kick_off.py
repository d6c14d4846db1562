"""What an asynchronous `$convert` kick-off stores and costs: one cohort of N ALLSorts samples
posted with `Prefer: respond-async` (through the app's test client, no network), then the size of
the queued job's payload (the JSON the worker reads back) beside the body's, and the kick-off's
wall time (the request answers 202 once the job is committed).

    python benchmarks/async_kick_off.py [--samples 20000]

The last line is a JSON object of the figures, so `compare.py /tmp/before 3 async_kick_off.py`
gives before/after medians (ALLFHIR_BENCH_TREE: benchmarks/_tree.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time

from _tree import REPO

sys.path.insert(0, str(REPO))  # the cohort the delivery benchmarks and tests post
from tests.exchange.test_deliver_workers import cohort


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20000)
    args = parser.parse_args()

    from allfhir.api import create_app
    from allfhir.settings import Settings
    from allfhir.store import apikeys, jobs, upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/kick-off.db"
        upgrade(url)
        app = create_app(Settings(database_url=url, base_url="http://allfhir.test/fhir"))
        store = app.extensions["allfhir.store"]
        key = apikeys.create(store, "lims", ["system/*.read", "system/*.write"])
        body = cohort(args.samples)
        started = time.perf_counter()
        r = app.test_client().post("/fhir/$convert?format=allsorts", data=body, content_type="text/csv",
                                   headers={"Authorization": f"Bearer {key}", "Prefer": "respond-async"})
        elapsed = time.perf_counter() - started
        if r.status_code != 202:
            raise SystemExit(f"kick-off answered {r.status_code}: {r.get_data(as_text=True)[:500]}")
        (job,) = jobs.of_kind(store, "convert")
        payload = len(json.dumps(job.payload))
        store.dispose()
    print(f"{args.samples} samples, body {len(body) / 1e6:.2f} MB: job payload {payload / 1e6:.2f} MB "
          f"(x{payload / len(body):.2f} the body), kick-off {elapsed * 1000:.0f} ms")
    print(json.dumps({"body_mb": round(len(body) / 1e6, 3), "payload_mb": round(payload / 1e6, 3),
                      "payload_per_body": round(payload / len(body), 3),
                      "kick_off_ms": round(elapsed * 1000, 1)}))


if __name__ == "__main__":
    main()
