"""Several `allfhir deliver --worker` processes on PostgreSQL: each delivery is claimed by one
of them and reaches the receiver once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from allfhir.store import schema
from tests.api.conftest import Api
from tests.api.test_fhir_rest import EXAMPLE
from tests.conftest import REPO
from tests.exchange.conftest import StartServer, add_endpoint

REPORTS = 60


def cohort(n: int) -> bytes:
    """n samples of the README example's probabilities, each under a sample id of its own."""
    header, *rows = EXAMPLE.read_text().splitlines()
    out = [header]
    for i in range(n):
        sample, rest = rows[i % len(rows)].split(",", 1)
        out.append(f"{sample}-{i:03d},{rest}")
    return ("\n".join(out) + "\n").encode()


def deliveries(api: Api) -> list[tuple[str, int, str]]:
    with api.store.engine.connect() as conn:
        return [(r.state, r.attempts, r.worker) for r in conn.execute(
            select(schema.jobs).where(schema.jobs.c.kind == "deliver"))]


def deliver_with_workers(api: Api, url: str, tmp_path: Path, n: int, bound: float,
                         pause: float) -> list[tuple[str, int, str]]:
    """Run n `allfhir deliver --worker` processes on the database at `url` until every queued
    delivery is done (`bound` seconds at most: a bound on a hang, not a measurement), stop them
    (each must exit 0) and answer the deliveries as they ended."""
    env = {**os.environ, "ALLFHIR_DATABASE_URL": url}
    logs = [tmp_path / f"worker-{i}.log" for i in range(n)]
    workers = [subprocess.Popen([sys.executable, "-m", "allfhir", "deliver", "--worker",
                                 "--poll", "0.1"], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=log.open("w"))
               for log in logs]
    try:
        deadline = time.monotonic() + bound
        while any(state != "done" for state, _, _ in deliveries(api)):
            assert time.monotonic() < deadline, Counter(s for s, _, _ in deliveries(api))
            assert all(w.poll() is None for w in workers), [log.read_text() for log in logs]
            time.sleep(pause)
        for w in workers:
            w.terminate()
        assert [w.wait(timeout=30) for w in workers] == [0] * n
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    return deliveries(api)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_deliver_each_report_once(api: Api, database_url: str,
                                                            tmp_path: Path,
                                                            status_servers: StartServer) -> None:
    receiver = status_servers("--delay", "0.02")  # each answer takes a moment: workers overlap
    add_endpoint(api, receiver.url)
    r = api.client.post("/fhir/$convert?format=allsorts", data=cohort(REPORTS),
                        content_type="text/csv", headers=api.auth("admin"))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert len(deliveries(api)) == REPORTS
    done = deliver_with_workers(api, database_url, tmp_path, 2, bound=180, pause=0.2)
    assert {attempts for _, attempts, _ in done} == {1}
    assert len({worker for _, _, worker in done}) == 2  # both took part
    sent = Counter(req["body"]["entry"][0]["resource"]["identifier"][0]["value"]
                   for req in receiver.log())
    assert sent == {f"allsorts:{s.split(',')[0]}": 1
                    for s in cohort(REPORTS).decode().splitlines()[1:]}
