"""Load on a real `allfhir serve` over loopback, driven by wrk (apt-get install -y wrk):
single-sample `$convert`, read by id, search; requests/s and p50/p90/p99 per scenario.

    python benchmarks/load_server.py [--database-url URL] [--workers 2] [--threads 4]
                                     [--worker-class gthread|sync] [--seconds 10]

Each scenario runs twice: as fast as the server answers (closed loop, few connections: the
throughput) and paced at the target rate (LOAD_RATE in load_wrk.lua: the latency at that rate).
Targets: `$convert` p99 < 50 ms at 200 req/s; read p99 < 10 ms at 1,000 req/s. Every `$convert`
request is a new sample (converted and stored), never a resubmission. The server runs on a fresh
SQLite file unless --database-url names a database (PostgreSQL: an empty schema or database).
The generator shares the machine with the server: wrk runs one thread (it costs the least CPU
of the load generators). Prints the load average before and after: on a shared machine it says
how much of the two cores the server had. ALLFHIR_BENCH_TREE serves another source tree; the
last line is a JSON object of the figures, so `compare.py /tmp/before 3 load_server.py` gives
before/after medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _tree import REPO, TREE

SCRIPT = Path(__file__).resolve().parent / "load_wrk.lua"
SAMPLE = REPO / "tests" / "data" / "classifiers" / "generic-single.json"


@dataclass(frozen=True)
class Scenario:
    name: str
    mode: str  # load_wrk.lua LOAD_MODE
    target_rate: int
    target_p99_ms: float


SCENARIOS = [Scenario("$convert (1 sample)", "convert", 200, 50.0),
             Scenario("read by id", "get", 1000, 10.0),
             Scenario("search by identifier", "get", 1000, 10.0)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def start(args: argparse.Namespace, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "allfhir", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(args.workers), "--threads",
                             str(args.threads),
                             # named only when not the default: older trees have no such option
                             *(["--worker-class", args.worker_class]
                               if args.worker_class != "gthread" else [])],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # the request log would cost the disk
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            call(f"{url}/health")
            return proc, url
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("allfhir serve did not start")


def cpu_seconds(group: int) -> float:
    """User + system CPU time of every process of the server's process group (master, workers):
    the cost of the requests, whatever share of the machine other work took meanwhile."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == group:  # field 5 of stat: the process group
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url: str, key: str, mode: str, rate: int, connections: int, seconds: int) -> dict:
    env = {**os.environ, "LOAD_MODE": mode, "LOAD_RATE": str(rate), "LOAD_THREADS": "1",
           "LOAD_PREFIX": f"LOAD{time.time_ns()}"}
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                          "-s", str(SCRIPT), "-H", f"Authorization: Bearer {key}", url],
                         env=env, capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4, help="closed-loop connections")
    parser.add_argument("--only", choices=["convert", "read", "search"], action="append",
                        help="run only these scenarios (repeatable; default: all)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    folder = Path(tempfile.mkdtemp(prefix="allfhir-load-"))
    database = args.database_url or f"sqlite:///{folder / 'allfhir.db'}"
    env = {**os.environ, "ALLFHIR_DATABASE_URL": database,
           "PYTHONPATH": os.pathsep.join([str(TREE / "service"), os.environ.get("PYTHONPATH", "")])}
    proc, url = start(args, env)
    try:
        created = subprocess.run([sys.executable, "-m", "allfhir", "apikey", "create",
                                  f"load-{time.time_ns()}", "--scope", "system/*.read", "system/*.write"],
                                 env=env, capture_output=True, text=True, check=True)
        key = created.stdout.splitlines()[-1]
        auth = {"Authorization": f"Bearer {key}"}
        answer = call(f"{url}/fhir/$convert", SAMPLE.read_bytes(),
                      {**auth, "Content-Type": "application/json"})
        report = answer["parameter"][0]["resource"]["entry"][0]["resource"]
        ident = report["identifier"][0]
        urls = {"convert": f"{url}/fhir/$convert",
                "read by id": f"{url}/fhir/DiagnosticReport/{report['id']}",
                "search by identifier": f"{url}/fhir/DiagnosticReport?identifier="
                                        f"{urllib.parse.quote(ident['system'] + '|' + ident['value'])}"}
        backend = database.split("://")[0]
        tmp = os.environ.get("TMPDIR", "unset (serve: /dev/shm)")
        print(f"allfhir serve --workers {args.workers} --threads {args.threads} --worker-class "
              f"{args.worker_class}; {backend}; TMPDIR={tmp}; wrk -t1, {args.seconds} s per run; "
              f"load average before: {os.getloadavg()[0]:.2f}")
        print("| scenario | run | connections | requests/s | p50 ms | p90 ms | p99 ms | non-2xx | "
              "server CPU ms/request | target |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        figures: dict[str, float] = {}
        for s in SCENARIOS:
            if args.only and s.name.split()[0].strip("$") not in args.only:
                continue
            target = urls["convert"] if s.mode == "convert" else urls[s.name]
            for label, rate, conns in (("max", 0, args.connections),
                                       (f"at {s.target_rate}/s", s.target_rate, 32)):
                used = cpu_seconds(proc.pid)
                r = wrk(target, key, s.mode, rate, conns, args.seconds)
                r["cpu_ms"] = (cpu_seconds(proc.pid) - used) * 1000 / max(r["requests"], 1)
                verdict = "" if not rate else ("met" if r["p99_ms"] < s.target_p99_ms and
                                                r["rps"] >= 0.95 * rate and not r["non_2xx"] else "not met")
                print(f"| {s.name} | {label} | {conns} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
                      f"{r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['non_2xx'] + r['socket_errors']} | "
                      f"{r['cpu_ms']:.1f} | {verdict or '-'} |", flush=True)
                tag = f"{s.name.split()[0].strip('$')}_{'max' if not rate else 'paced'}"
                figures.update({f"{tag}_rps": round(r["rps"], 1), f"{tag}_p50_ms": r["p50_ms"],
                                f"{tag}_p99_ms": r["p99_ms"], f"{tag}_cpu_ms": round(r["cpu_ms"], 2)})
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print(json.dumps(figures))  # the last line: figures for compare.py
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
