"""Warm validation throughput on the 147 real ALLSorts bundles.

    ALLFHIR_FHIR_PACKAGES=... python benchmarks/bench_validate.py [ROUNDS]      (default: 5)

Converts tests/data/classifiers/allsorts-comparisons.csv (147 samples scored by the released ALLSorts
model), validates every bundle once to warm the caches (snapshots, ValueSet expansions, compiled
FHIRPath), then times ROUNDS passes over the 147 bundles and prints bundles/s of the median pass (wall time,
and the process's CPU time: on a shared machine the wall time includes waiting for a core).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from _tree import REPO, TREE
from allfhir.convert import convert
from allfhir.validation.validator import Validator

COHORT = REPO / "tests" / "data" / "classifiers" / "allsorts-comparisons.csv"


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    bundles = [b for b in convert([COHORT]) if isinstance(b, dict)]
    validator = Validator()
    start = time.perf_counter()
    n_issues = sum(len(validator.validate(b)) for b in bundles)
    cold = time.perf_counter() - start
    times, cpus = [], []
    for _ in range(rounds):
        start, cpu = time.perf_counter(), time.process_time()
        for b in bundles:
            validator.validate(b)
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    median = statistics.median(times)
    print(json.dumps({"tree": str(TREE), "bundles": len(bundles), "issues": n_issues,
                      "cold_s": round(cold, 2),
                      "warm_bundles_per_s": round(len(bundles) / median),
                      "warm_ms_per_bundle": round(1000 * median / len(bundles), 2),
                      "warm_bundles_per_cpu_s": round(len(bundles) / statistics.median(cpus))}))


if __name__ == "__main__":
    main()
