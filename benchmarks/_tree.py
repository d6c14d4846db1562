"""Which source tree a benchmark measures: this checkout, or the one named by ALLFHIR_BENCH_TREE
(e.g. `git archive <commit> | tar -x -C /tmp/before`), so before/after run side by side on the
same machine in the same minute. Inputs always come from this checkout."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TREE = Path(os.environ.get("ALLFHIR_BENCH_TREE") or REPO).resolve()
if (TREE / "service" / "allfhir").is_dir():
    sys.path.insert(0, str(TREE / "service"))  # the src layout: service/allfhir
else:
    # A tree from before the package was named allfhir: its `service` package, under the name the
    # benchmarks import, so the same script measures both.
    sys.path.insert(0, str(TREE))
    sys.modules["allfhir"] = importlib.import_module("service")
