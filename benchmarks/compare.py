"""Before/after: run one benchmark alternately on an earlier tree and on this one, and print the
medians of every figure and their ratio (after / before).

    git archive <commit> | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    python benchmarks/compare.py /tmp/before 5 bench_validate.py 3

Alternating runs share the machine's load, so the ratio holds when the absolute figures wobble
(a busy 2-core machine); each run is a fresh process. The benchmark's last output line is a JSON
object of figures; each figure's runs are printed beside the medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(tree: Path, script: str, args: list[str]) -> dict[str, object]:
    env = {**os.environ, "ALLFHIR_BENCH_TREE": str(tree)}
    out = subprocess.run([sys.executable, str(HERE / script), *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    before, runs, script, *args = sys.argv[1:]
    trees = {"before": Path(before).resolve(), "after": HERE.parent}
    results: dict[str, list[dict[str, object]]] = {"before": [], "after": []}
    for _ in range(int(runs)):
        for name, tree in trees.items():
            results[name].append(run(tree, script, args))
    keys = [k for k, v in results["after"][0].items() if isinstance(v, int | float)]
    table = {}
    for k in keys:
        b = statistics.median(float(r[k]) for r in results["before"])  # type: ignore[arg-type]
        a = statistics.median(float(r[k]) for r in results["after"])  # type: ignore[arg-type]
        # every run's figure too: a tail figure (a paced run's p99) moves by tens of ms from run
        # to run, and the median of three hides whether one run or all of them met a target
        table[k] = {"before": b, "after": a, "after/before": round(a / b, 2) if b else None,
                    "runs": {name: [r[k] for r in results[name]] for name in trees}}
    print(json.dumps({"script": script, "args": args, "runs": int(runs), "medians": table}, indent=1))


if __name__ == "__main__":
    main()
