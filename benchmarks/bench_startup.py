"""Start-up: `allfhir convert` on the README example end to end, and `import` of the CLI.

    python benchmarks/bench_startup.py [RUNS]      (default: 7)

Each figure is the median wall time of RUNS fresh processes (python -c, so the measured tree can be
another one, see _tree.py; the console script adds a few ms on top). The convert output goes to
/dev/null.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

from _tree import REPO, TREE

# The measured tree's import root: service/ of the src layout (sys.path[0] in the child process;
# the tree itself would leave `allfhir` to the editable install, i.e. this checkout, every time).
ROOT = TREE / "service" if (TREE / "service" / "allfhir").is_dir() else TREE

EXAMPLE = [str(REPO / "examples" / "allsorts" / "probabilities.csv"),
           str(REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv")]
CONVERT = ("import sys; sys.path.insert(0, sys.argv[1]); from allfhir.cli import main; "
           "sys.exit(main(['convert', *sys.argv[2:]]))")
IMPORT = "import sys; sys.path.insert(0, sys.argv[1]); import allfhir.cli"
BARE = "pass"


def wall(code: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    figures = {name: statistics.median(wall(code, str(ROOT), *args) for _ in range(runs))
               for name, code, args in (("python_s", BARE, ()), ("import_cli_s", IMPORT, ()),
                                        ("convert_readme_s", CONVERT, tuple(EXAMPLE)))}
    print(json.dumps({"tree": str(TREE), "runs": runs, **{k: round(v, 3) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
