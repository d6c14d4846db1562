"""Throughput and memory of `convert` on a synthetic ALLSorts cohort, against a JSON round trip.

    python benchmarks/bench_convert.py [N ...]      (default: 1000 10000)

Writes an ALLSorts probabilities.csv of N synthetic samples (real column layout, labels drawn from
ALLSorts' vocabulary, each sample with one multi-label call in ten), converts it with actionability
on, each bundle serialised as the CLI does (`convert(..., as_json=True)`; counted, then dropped:
keeping it would measure the sink), on one core. Prints samples/s (timed without tracing; of wall
time and of the process's CPU time, which on a shared machine leaves out the waiting for a core),
the Python heap peak (tracemalloc, a second pass; it must stay flat in N: the pipeline streams),
and the same run's orjson and stdlib loads+dumps of the output, as ratios (conversion time /
round-trip time; for orjson also of CPU times).
ALLFHIR_BENCH_TREE measures another source tree (see _tree.py).
"""

from __future__ import annotations

import inspect
import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import orjson

from _tree import TREE
from allfhir.convert import convert
from allfhir.knowledge import default

try:
    from allfhir.jsonout import dumps_bytes as serialise
except ImportError:  # a tree from before orjson: its CLI's json.dumps
    from allfhir.cli import dumps as serialise

LABELS = [
    "TCF3-PBX1", "KMT2A Group", "DUX4", "PAX5alt", "MEF2D", "ZNF384 Group", "BCL2/MYC", "iAMP21",
    "PAX5 P80R", "NUTM1", "Low hypodiploid", "IKZF1 N159Y", "HLF", "High hyperdiploid",
    "Low hyperdiploid", "Near haploid", "Ph", "Ph-like", "ETV6-RUNX1", "ETV6-RUNX1-like",
]


def write_cohort(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("," + ",".join(LABELS) + ",Pred\n")
        for i in range(n):
            probs = [round(rng.random() * 0.2, 3) for _ in LABELS]
            top = rng.randrange(len(LABELS))
            probs[top] = round(0.6 + rng.random() * 0.4, 3)
            pred = LABELS[top]
            if i % 10 == 0:  # a multi-label call, e.g. "Low hypodiploid,Ph-like"
                other = (top + 7) % len(LABELS)
                probs[other] = round(0.6 + rng.random() * 0.4, 3)
                first, second = sorted((top, other))
                pred = f'"{LABELS[first]},{LABELS[second]}"'
            elif i % 25 == 0:
                pred = "Unclassified"
            fh.write(f"SYN{i:06d}," + ",".join(f"{p:g}" for p in probs) + f",{pred}\n")


# The CLI's path: Bundles as JSON text straight from the builder (a tree from before it: each
# Bundle dict written as that tree's CLI wrote it).
_AS_JSON = {"as_json": True} if "as_json" in inspect.signature(convert).parameters else {}


# The round trips run over the first ROUND_TRIP_LINES Bundles and are scaled to the cohort: kept
# whole, a 100,000-sample cohort's 1.5 GB of text slowed its own round trip 2.2-fold per Bundle
# (memory, not JSON), which made the ratio look better than it is.
ROUND_TRIP_LINES = 20_000


def _convert(cohort: Path, keep: list[bytes] | None = None) -> tuple[int, int, int]:
    """(Bundles, errors, NDJSON size); `keep` gets the first ROUND_TRIP_LINES Bundles' text."""
    count = errors = size = 0
    for item in convert([cohort], **_AS_JSON):
        if not isinstance(item, bytes | dict):
            errors += 1
            continue
        text: bytes | str = item if isinstance(item, bytes) else serialise(item)
        size += len(text) + 1
        count += 1
        if keep is not None and len(keep) < ROUND_TRIP_LINES:
            keep.append(text if isinstance(text, bytes) else text.encode("utf-8"))
    return count, errors, size


def _round_trip(lines: list[bytes], loads: Callable, dumps: Callable) -> tuple[float, float]:
    """(wall, CPU) seconds of loads + dumps of every line."""
    start, cpu = time.perf_counter(), time.process_time()
    for line in lines:
        dumps(loads(line))
    return time.perf_counter() - start, time.process_time() - cpu


def run(n: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        cohort = Path(tmp) / "probabilities.csv"
        write_cohort(cohort, n)
        default()  # knowledge is loaded once per process; not part of the per-sample cost
        # Two passes: tracemalloc slows Python down several-fold, so speed is timed without it.
        start, cpu = time.perf_counter(), time.process_time()
        count, errors, size = _convert(cohort)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        tracemalloc.start()
        _convert(cohort)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        lines: list[bytes] = []
        _convert(cohort, lines)
    scale = count / max(1, len(lines))
    fast, fast_cpu = (t * scale for t in _round_trip(lines, orjson.loads, orjson.dumps))
    stdlib = scale * _round_trip(lines, json.loads,
                                 lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":")))[0]
    return {"tree": str(TREE), "samples": n, "bundles": count, "errors": errors,
            "seconds": round(elapsed, 2), "samples_per_s": round(count / elapsed),
            "cpu_s": round(cpu, 2), "samples_per_cpu_s": round(count / cpu),
            "ndjson_mib": round(size / 2**20, 1), "peak_heap_mib": round(peak / 2**20, 1),
            "x_orjson_round_trip": round(elapsed / fast, 2),
            # the same ratio of CPU times: what a busy machine's waiting for a core leaves out
            "x_orjson_round_trip_cpu": round(cpu / fast_cpu, 2),
            "x_stdlib_round_trip": round(elapsed / stdlib, 2)}


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    for n in sizes:
        print(json.dumps(run(n)))


if __name__ == "__main__":
    main()
