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
in ms. Last, a system-level `$export` run by the worker: resources/s, and the Python heap peak
(tracemalloc) and peak RSS of that run, which must not grow with N (the store is read in chunks).
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import _store_copies
from _tree import REPO
from allfhir.api import create_app
from allfhir.convert import convert
from allfhir.fhir.bundle import BuildOptions
from allfhir.settings import Settings
from allfhir.store import Store, apikeys, upgrade
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


def timed(client, path: str, headers: dict, **params: str) -> float:
    t0 = time.perf_counter()
    r = client.get(path, query_string=params, headers=headers)
    elapsed = (time.perf_counter() - t0) * 1000
    assert r.status_code == 200, r.get_data(as_text=True)
    return elapsed


def quantiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {statistics.median(samples):7.1f} ms   p99 {q[98]:7.1f} ms"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    tmp = Path(tempfile.mkdtemp(prefix="allfhir-genomics-bench-"))
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tmp / 'bench.db'}"
    if "--reuse" in sys.argv:
        upgrade(url)
        print(f"store: {n} samples of a former run")
    else:
        t0 = time.perf_counter()
        stored = build(url, n, tmp)
        print(f"store: {n} samples, {stored} resources, built in {time.perf_counter() - t0:.0f} s")
    app = create_app(Settings(database_url=url, data_dir=tmp))
    store = app.extensions["allfhir.store"]
    key = apikeys.create(store, f"bench-{uuid.uuid4().hex[:8]}", ["system/*.read"])
    headers = {"Authorization": f"Bearer {key}"}
    client, rng = app.test_client(), random.Random(13)
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
    for name, params in subject_ops.items():
        samples = [timed(client, f"/fhir/${name}", headers, subject=s, **params) for s in subjects]
        print(f"${name:48} {quantiles(samples)}")
    population_ops = {
        "find-population-specific-variants": {"variants": "NP_057953.1:p.Pro80Arg"},
        "find-population-dx-implications": {"conditions": f"{SUBTYPE}|ph"},
        "find-population-tx-implications": {"treatments": f"{RXNORM}|282388",
                                            "includePatientList": "true"},
    }
    for name, params in population_ops.items():
        samples = [timed(client, f"/fhir/${name}", headers, **params) for _ in range(20)]
        print(f"${name:48} {quantiles(samples)}")
    r = client.get("/fhir/$export", headers={**headers, "Prefer": "respond-async"})
    status = r.headers["Content-Location"].removeprefix("http://localhost")
    worker = Worker(Settings(database_url=url, data_dir=tmp), ["export"])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    assert worker.run_once()
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    manifest = client.get(status, headers=headers).get_json()
    exported = sum(o["count"] for o in manifest["output"])
    size = sum(p.stat().st_size for p in (tmp / "exports").rglob("*.ndjson"))
    print(f"$export: {exported} resources ({size / 2**20:.0f} MiB NDJSON) in {elapsed:.1f} s = "
          f"{exported / elapsed:,.0f} resources/s; Python heap peak {peak / 2**20:.1f} MiB; "
          f"peak RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB")
    worker.store.dispose()
    store.dispose()


if __name__ == "__main__":
    main()
