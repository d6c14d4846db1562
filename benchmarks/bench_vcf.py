"""VCF conversion: variants/s for a VEP-annotated VCF, and peak memory against file size.

    python benchmarks/bench_vcf.py [N [M]]      (default: N = 20000, M = N)

1. Converts a synthetic VEP VCF of N PASS records (see _vcf.py; each a variant of the first sample)
   to bundles, serialising each as the CLI does, and prints variants/s of wall time and of the
   process's CPU time (on a shared machine the wall time includes waiting for a core).
2. Peak RSS of reading VCFs of M and 4M records of which 1% pass (a fresh process each, the
   adapter only): it must not grow with the file (records are streamed; before, the whole text
   was in memory).
ALLFHIR_BENCH_TREE measures another source tree (see _tree.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _vcf
from _tree import TREE
from allfhir.convert import convert

try:
    from allfhir.jsonout import dumps_bytes as serialise
except ImportError:  # a tree from before orjson
    from allfhir.cli import dumps as serialise

# The adapter alone, in a fresh process; _tree makes `allfhir` importable from the measured tree.
READ_ONLY = """
import os, resource, sys
sys.path.insert(0, os.path.dirname(sys.argv[3]))
os.environ["ALLFHIR_BENCH_TREE"] = sys.argv[2]
import _tree
from pathlib import Path
from allfhir.ingest import vcf
try:
    from allfhir.ingest.source import Source
    items = vcf.read(Source(Path(sys.argv[1])))
except ImportError:  # a tree whose adapters read paths
    items = vcf.read(Path(sys.argv[1]))
n = sum(len(s.variants) for s in items if hasattr(s, "variants"))
# VmHWM, this program's own peak: ru_maxrss would carry over the parent's peak (Linux keeps it
# across fork and exec), i.e. the conversion the parent ran before.
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(hwm[0] // 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, n)
"""


def peak_rss_mib(path: Path) -> int:
    out = subprocess.run([sys.executable, "-c", READ_ONLY, str(path), str(TREE), __file__], check=True,
                         capture_output=True, text=True, env={**os.environ}).stdout.split()
    return int(out[0])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else n
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cohort.vcf"
        _vcf.write(path, n)
        start, cpu = time.perf_counter(), time.process_time()
        variants = size = 0
        for item in convert([path]):
            if isinstance(item, dict):
                size += len(serialise(item))
                variants += sum(1 for e in item["entry"]
                                if "variant" in str(e["resource"].get("meta", {}).get("profile", "")))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        small, large = Path(tmp) / "small.vcf", Path(tmp) / "large.vcf"
        _vcf.write(small, m, passing=0.01)
        _vcf.write(large, 4 * m, passing=0.01)
        rss_small, rss_large = peak_rss_mib(small), peak_rss_mib(large)
        mib = (small.stat().st_size / 2**20, large.stat().st_size / 2**20)
    print(json.dumps({"tree": str(TREE), "records": n, "variants": variants, "seconds": round(elapsed, 2),
                      "variants_per_s": round(variants / elapsed), "cpu_s": round(cpu, 2),
                      "variants_per_cpu_s": round(variants / cpu),
                      "vcf_mib_small": round(mib[0], 1), "peak_rss_mib_small": rss_small,
                      "vcf_mib_large": round(mib[1], 1), "peak_rss_mib_large": rss_large}))


if __name__ == "__main__":
    main()
