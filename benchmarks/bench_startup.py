"""Start-up: `allfhir convert` on the README example end to end, and `import` of the CLI.

    python benchmarks/bench_startup.py [RUNS] [--no-bytecode]      (default: 7 runs)

Each figure is the median of RUNS fresh processes (python -c, so the measured tree can be
another one, see _tree.py; the console script adds a few ms on top): the wall time, and the CPU
time (user + system) of the process, which on a machine shared with other work is the closer
estimate of what an idle one would take. The convert output goes to /dev/null.

Bytecode: an installed package runs from the .pyc files compiled at install (or at its first
run); the processes here do too, from a bytecode folder of this run (PYTHONPYCACHEPREFIX, so no
tree is written to), filled by one unmeasured run of each command first. `--no-bytecode`
measures instead what an environment with PYTHONDONTWRITEBYTECODE=1 pays on every run:
compiling the project's modules from source (the third-party ones keep their installed .pyc).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
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


def timed(code: str, args: tuple[str, ...], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, stdout=subprocess.DEVNULL,
                   env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    numbers = [a for a in sys.argv[1:] if not a.startswith("--")]
    runs = int(numbers[0]) if numbers else 7
    bytecode = "--no-bytecode" not in flags
    with tempfile.TemporaryDirectory(prefix="bench-startup-pyc-") as pyc:
        env = dict(os.environ)
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = pyc
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        commands = (("python", BARE, ()), ("import_cli", IMPORT, (str(ROOT),)),
                    ("convert_readme", CONVERT, (str(ROOT), *EXAMPLE)))
        figures: dict[str, float] = {}
        for name, code, args in commands:
            if bytecode:
                timed(code, args, env)  # compiles into the bytecode folder; not measured
            walls, cpus = zip(*(timed(code, args, env) for _ in range(runs)), strict=True)
            figures[f"{name}_s"] = statistics.median(walls)
            figures[f"{name}_cpu_s"] = statistics.median(cpus)
    print(json.dumps({"tree": str(TREE), "runs": runs, "bytecode": "cached" if bytecode else "none",
                      **{k: round(v, 3) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
