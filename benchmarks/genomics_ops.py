"""Latency of the Genomics Reporting IG operations and the bulk-export rate over a store of many
converted samples.

    python benchmarks/genomics_ops.py [N] [DATABASE_URL [--reuse]]
                                          (default: 10000, a temporary SQLite; --reuse: the
                                          database already holds the N samples of a former run)

Builds the store: six template reports converted by the real pipeline from the test fixtures
(Ph with the Manta/VEP SV VCF, PAX5 P80R with its VEP VCF, the ALLSorts example cohort with its
Arriba fusions, an iAMP21 call), copied N times with fresh resource ids and one subject each
(Patient/p<i>), written row for row as the service's write path (submissions.save) writes them:
each template stored through it once, each copy its rows with ids substituted, 2,000 copies a
transaction (_store_copies.py; one copy of each template is checked against submissions.save),
so the search index is the one `$convert` writes. Then, through the Flask app
(authentication, audit and JSON included; no network): each `$find-subject-*` operation and
`$find-study-metadata` for 200 random subjects, each population operation 20 times; p50 / p99
in ms, with this process's CPU (the server runs in it), the same without the request's AuditEvent
write (timed apart), and the operation alone (api.genomics.answer: no HTTP, auth, audit or JSON).
The load average is printed around each part: the machine may be shared. Last, a system-level
`$export` run by the worker: resources/s, and the Python heap peak (tracemalloc) and peak RSS of
that run, which must not grow with N (the store is read in chunks).
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from werkzeug.datastructures import MultiDict

import _store_copies
from _tree import REPO
from allfhir.api import create_app
from allfhir.api import genomics as api_genomics
from allfhir.convert import convert
from allfhir.fhir.bundle import BuildOptions
from allfhir.genomics.definitions import OPERATIONS
from allfhir.genomics.parameters import from_query as params_of
from allfhir.settings import Settings
from allfhir.store import Store, apikeys, upgrade
from allfhir.store import audit as store_audit
from allfhir.worker import Worker

DATA = REPO / "tests" / "data"
SUBTYPE = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def templates(tmp: Path) -> list[dict]:
    (tmp / "a.csv").write_text(",Prediction\nPT11_D,Ph\n")
    (tmp / "b.csv").write_text(",Prediction\nALL-001,PAX5 P80R\n")
    (tmp / "d.json").write_text(json.dumps({"sample_id": "LAB-21", "calls": [
        {"label": "iamp21", "score_type": "score", "probability": 0.9}], "ploidy": {"iamp21": True}}))
    runs = [[tmp / "a.csv", DATA / "vcf" / "vep-sv.vcf"], [tmp / "b.csv", DATA / "vcf" / "vep-pax5.vcf"],
            [REPO / "examples" / "allsorts" / "probabilities.csv",
             REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"], [tmp / "d.json"]]
    out = []
    for paths in runs:
        out += [b for b in convert(paths, opts=BuildOptions(patient="Patient/TEMPLATE"))
                if isinstance(b, dict)]
    return out


def build(url: str, n: int, tmp: Path) -> int:
    """The store of n copies (_store_copies.py), checked against submissions.save on one copy of
    each template; the number of resources written."""
    upgrade(url)
    bundles = templates(tmp)
    store = Store(url)
    stored, now = _store_copies.templates_stored(tmp, bundles, store.engine.dialect)
    resources = 0
    for written in _store_copies.build(store, stored, now, n):
        resources += written
    rng = random.Random(n)
    checked = [rng.randrange(k, n, len(bundles)) for k in range(min(n, len(bundles)))]
    rows = sum(_store_copies.check(store, tmp, bundles[i % len(bundles)], i) for i in checked)
    print(f"checked: copies {checked} have exactly the {rows} rows submissions.save writes")
    store.dispose()
    return resources


class Requests:
    """Requests through the Flask app, each timed whole (wall and this process's CPU: the test
    client runs the server in-process) and for its AuditEvent write apart: the write the
    request pipeline adds to every operation, measured by wrapping the store's function."""

    def __init__(self, client: Any, headers: dict) -> None:
        self.client, self.headers = client, headers
        self.audit_ms = 0.0
        record = store_audit.record

        def timed_record(*args: Any, **kwargs: Any) -> None:
            t0 = time.perf_counter()
            try:
                record(*args, **kwargs)
            finally:
                self.audit_ms += (time.perf_counter() - t0) * 1000
        store_audit.record = timed_record

    def get(self, path: str, params: dict[str, str]) -> tuple[float, float, float]:
        """(wall ms, CPU ms, of which the audit write: wall ms)."""
        self.audit_ms = 0.0
        t0, c0 = time.perf_counter(), time.process_time()
        r = self.client.get(path, query_string=params, headers=self.headers)
        wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        assert r.status_code == 200, r.get_data(as_text=True)
        return wall, cpu, self.audit_ms


def direct(app: Any, name: str, params: dict[str, str]) -> tuple[float, float]:
    """The operation alone (parse, query, answer; no HTTP, auth, audit, JSON): (wall ms, CPU ms)."""
    op = OPERATIONS[name]
    with app.app_context():
        t0, c0 = time.perf_counter(), time.process_time()
        api_genomics.answer(op, params_of(op, MultiDict(params)))
        return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def quantiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {statistics.median(samples):6.1f} p99 {q[98]:6.1f}"


def report(name: str, through: list[tuple[float, float, float]],
           alone: list[tuple[float, float]]) -> None:
    wall, cpu, _ = zip(*through, strict=True)
    print(f"${name:46} app: {quantiles(list(wall))} ms (CPU p50 {statistics.median(cpu):5.1f}); "
          f"audit write excluded: {quantiles([w - a for w, _, a in through])}; "
          f"op alone: {quantiles([w for w, _ in alone])} (CPU p50 "
          f"{statistics.median([c for _, c in alone]):5.1f}) ms")


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    tmp = Path(tempfile.mkdtemp(prefix="allfhir-genomics-bench-"))
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tmp / 'bench.db'}"
    if "--reuse" in sys.argv:
        upgrade(url)
        print(f"store: {n} samples of a former run")
    else:
        t0, c0 = time.perf_counter(), time.process_time()
        stored = build(url, n, tmp)
        print(f"store: {n} samples, {stored} resources, built in {time.perf_counter() - t0:.0f} s "
              f"(CPU {time.process_time() - c0:.0f} s; load average {load()})")
    app = create_app(Settings(database_url=url, data_dir=tmp))
    store = app.extensions["allfhir.store"]
    key = apikeys.create(store, f"bench-{uuid.uuid4().hex[:8]}", ["system/*.read"])
    headers = {"Authorization": f"Bearer {key}"}
    requests, rng = Requests(app.test_client(), headers), random.Random(13)
    subjects = [f"Patient/p{rng.randrange(n)}" for _ in range(200)]
    subject_ops = {
        "find-subject-specific-variants": {"variants": "NP_057953.1:p.Pro80Arg,NM_016734.3:c.239C>G"},
        "find-subject-variants": {"ranges": "NC_000009.12:37015000-37015200"},
        "find-subject-structural-intersecting-variants": {
            "ranges": "NC_000022.11:23180000-23320000,NC_000007.14:50300000-50400000",
            "includeVariants": "true"},
        "find-subject-structural-subsuming-variants": {"ranges": "NC_000007.14:50300000-50400000"},
        "find-subject-dx-implications": {"conditions": f"{SUBTYPE}|ph"},
        "find-subject-tx-implications": {"treatments": f"{RXNORM}|282388"},
        "find-study-metadata": {},
    }
    print(f"load average {load()}")
    for name, params in subject_ops.items():
        runs = [{**params, "subject": s} for s in subjects]
        report(name, [requests.get(f"/fhir/${name}", r) for r in runs],
               [direct(app, name, r) for r in runs])
    population_ops = {
        "find-population-specific-variants": {"variants": "NP_057953.1:p.Pro80Arg"},
        "find-population-dx-implications": {"conditions": f"{SUBTYPE}|ph"},
        "find-population-tx-implications": {"treatments": f"{RXNORM}|282388",
                                            "includePatientList": "true"},
    }
    for name, params in population_ops.items():
        report(name, [requests.get(f"/fhir/${name}", params) for _ in range(20)],
               [direct(app, name, params) for _ in range(20)])
    print(f"load average {load()}")
    client = requests.client
    r = client.get("/fhir/$export", headers={**headers, "Prefer": "respond-async"})
    status = r.headers["Content-Location"].removeprefix("http://localhost")
    worker = Worker(Settings(database_url=url, data_dir=tmp), ["export"])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    assert worker.run_once()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    manifest = client.get(status, headers=headers).get_json()
    exported = sum(o["count"] for o in manifest["output"])
    size = sum(p.stat().st_size for p in (tmp / "exports").rglob("*.ndjson"))
    print(f"$export: {exported} resources ({size / 2**20:.0f} MiB NDJSON) in {elapsed:.1f} s = "
          f"{exported / elapsed:,.0f} resources/s (CPU {cpu:.1f} s, with tracemalloc on); "
          f"Python heap peak {peak / 2**20:.1f} MiB; "
          f"peak RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB")
    print(f"load average {load()}")
    worker.store.dispose()
    store.dispose()


if __name__ == "__main__":
    main()
