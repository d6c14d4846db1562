"""Side by side with vcf2fhir (PyPI, elimuinformatics) on the same VEP VCF: resources/s and peak RSS.

    python3 -m venv /tmp/vcf2fhir-venv && /tmp/vcf2fhir-venv/bin/pip install vcf2fhir
    python benchmarks/bench_vcf2fhir.py /tmp/vcf2fhir-venv/bin/python [N [RUNS]]   (default: 5000 1)

vcf2fhir lives in its own virtualenv (it is not a dependency of ours). Both convert the synthetic VCF
of N PASS records (_vcf.py) in a fresh process, writing their JSON to a file; each process reports
its resources, wall and CPU time from just before its conversion, and its peak RSS. With RUNS > 1
the two alternate (the machine's load shared) and the medians are printed. The two model a variant
differently (vcf2fhir reads only the VCF's own columns, takes annotations from a separate file, and writes one
report with contained resources), so the counts differ; the figures compared are resources/s and
peak RSS, as ratios (allfhir / vcf2fhir).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _vcf
from _tree import TREE

# VmHWM, the program's own peak: ru_maxrss would carry over the parent's (Linux keeps it across
# fork and exec).
PEAK = """
def peak_mib():
    hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")]
    return hwm[0] // 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
"""

ALLFHIR = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
PEAK
from pathlib import Path
from allfhir.convert import convert
try:
    from allfhir.jsonout import dumps_bytes as dumps
except ImportError:
    from allfhir.cli import dumps
start, cpu = time.perf_counter(), time.process_time()
n = 0
with open(sys.argv[2], "wb") as out:
    for b in convert([Path(sys.argv[1])]):
        text = dumps(b)
        out.write(text if isinstance(text, bytes) else text.encode())
        n += len(b["entry"])
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"resources": n, "seconds": elapsed, "cpu_s": cpu,
                  "peak_rss_mib": peak_mib()}))
"""

VCF2FHIR = """
import json, logging, resource, sys, time
PEAK
logging.disable(logging.CRITICAL)
import vcf2fhir
start, cpu = time.perf_counter(), time.process_time()
vcf2fhir.Converter(sys.argv[1], "GRCh38", "ALL-001", genomic_source_class="somatic").convert(sys.argv[2])
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
doc = json.load(open(sys.argv[2]))
n = len(doc.get("contained", [])) + 1
print(json.dumps({"resources": n, "seconds": elapsed, "cpu_s": cpu,
                  "peak_rss_mib": peak_mib()}))
"""


# The measured tree's import root: service/ of the src layout (the tree itself would leave
# `allfhir` to the editable install, i.e. this checkout, whichever tree is named).
ROOT = TREE / "service" if (TREE / "service" / "allfhir").is_dir() else TREE


def run(python: str, code: str, *args: str) -> dict[str, float]:
    code = code.replace("PEAK\n", PEAK, 1)
    out = subprocess.run([python, "-c", code, *args], check=True, capture_output=True, text=True,
                         env={**os.environ}).stdout
    return json.loads(out.strip().splitlines()[-1])


def _median(results: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main() -> None:
    other = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    mine: list[dict[str, float]] = []
    theirs_all: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        vcf = Path(tmp) / "cohort.vcf"
        _vcf.write(vcf, n)
        for _ in range(runs):
            mine.append(run(sys.executable, ALLFHIR, str(vcf), str(Path(tmp) / "ours.ndjson"), str(ROOT)))
            theirs_all.append(run(other, VCF2FHIR, str(vcf), str(Path(tmp) / "theirs.json")))
    ours, theirs = _median(mine), _median(theirs_all)
    rate = {k: v["resources"] / v["seconds"] for k, v in (("allfhir", ours), ("vcf2fhir", theirs))}
    cpu_rate = {k: v["resources"] / v["cpu_s"] for k, v in (("allfhir", ours), ("vcf2fhir", theirs))}
    print(json.dumps({
        "tree": str(TREE), "records": n, "runs": runs,
        "allfhir_resources": ours["resources"], "vcf2fhir_resources": theirs["resources"],
        "allfhir_resources_per_s": round(rate["allfhir"]),
        "vcf2fhir_resources_per_s": round(rate["vcf2fhir"]),
        "allfhir_peak_rss_mib": ours["peak_rss_mib"], "vcf2fhir_peak_rss_mib": theirs["peak_rss_mib"],
        "x_resources_per_s": round(rate["allfhir"] / rate["vcf2fhir"], 2),
        "x_resources_per_cpu_s": round(cpu_rate["allfhir"] / cpu_rate["vcf2fhir"], 2),
        "x_peak_rss": round(ours["peak_rss_mib"] / theirs["peak_rss_mib"], 2)}))


if __name__ == "__main__":
    main()
