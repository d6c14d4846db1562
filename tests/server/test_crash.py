"""kill -9 of the server (master and workers) while it stores a submission: the submission is
there whole or not at all, and sending it again afterwards succeeds."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from allfhir.store import Store, audit
from allfhir.store.reads import Criterion
from allfhir.store.schema import resources, submissions
from tests.conftest import fresh_database
from tests.server.live import rows, running_server

SAMPLES = 300  # enough rows that the write transaction is caught open


def writer(kind: str, database_url: str) -> Callable[[], bool]:
    """True once the server is inside its write transaction (rows not yet committed)."""
    if kind == "sqlite":
        wal = Path(make_url(database_url).database + "-wal")
        baseline = wal.stat().st_size if wal.exists() else 0
        return lambda: wal.exists() and wal.stat().st_size > baseline + 256 * 1024
    import psycopg

    name = make_url(database_url).query["application_name"]
    conn = psycopg.connect(database_url.split("?")[0].replace("+psycopg", ""), autocommit=True)

    def inserting() -> bool:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND "
                            "query ILIKE 'INSERT INTO resource%%'", [name]).fetchone()[0] > 0
    return inserting


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_kill_9_while_storing_leaves_all_or_nothing_and_a_resubmission_succeeds(
        kind: str, tmp_path: Path) -> None:
    cohort = json.dumps({"samples": [{"sample_id": f"K-{i}", "calls": [
        {"label": "high-hyperdiploid", "probability": 0.8}]} for i in range(SAMPLES)]})
    with fresh_database(kind, tmp_path, migrate=False) as url:
        if kind == "postgresql":  # names the server's connections, to see them in pg_stat_activity
            url += f"&application_name=k{os.getpid()}"
        with running_server(url) as (srv, proc):
            writing = writer(kind, url)

            def submit() -> None:
                try:
                    requests.post(f"{srv.url}/fhir/$convert", data=cohort, timeout=120,
                                  headers=srv.headers(**{"Content-Type": "application/json"}))
                except requests.RequestException:
                    pass  # the server died under it: that is the point

            with ThreadPoolExecutor(1) as pool:
                pool.submit(submit)
                deadline = time.monotonic() + 60
                while not writing() and time.monotonic() < deadline:
                    time.sleep(0.005)
                assert time.monotonic() < deadline, "the server never started storing"
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        stored = rows(url, submissions), rows(url, resources)
        assert stored == (0, 0) or (stored[0] == 1 and stored[1] >= SAMPLES), stored

        # a new server on the same database: the client sends the same submission again
        with running_server(url, key=srv.key) as (again, _):
            answer = requests.post(f"{again.url}/fhir/$convert", data=cohort, timeout=300,
                                   headers=again.headers(**{"Content-Type": "application/json"}))
            assert answer.status_code == 200, answer.text[:500]
            bundles = [p["resource"] for p in answer.json()["parameter"] if p["name"] == "report"]
            assert len(bundles) == SAMPLES
            first = bundles[0]["entry"][0]["resource"]
            read = requests.get(f"{again.url}/fhir/DiagnosticReport/{first['id']}",
                                headers=again.headers(), timeout=10)
            assert (read.status_code, read.json()["id"]) == (200, first["id"])
        entries = {(e["resource"]["resourceType"], e["resource"]["id"]) for b in bundles for e in b["entry"]}
        assert (rows(url, submissions), rows(url, resources)) == (1, len(entries))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_every_answered_request_has_its_audit_event_after_a_kill_9(kind: str, tmp_path: Path) -> None:
    """AuditEvents are committed before the response is sent (several at once share a
    transaction): a server killed right after answering has lost none of them."""
    sample = json.dumps({"sample_id": "AUDIT-1", "calls": [
        {"label": "high-hyperdiploid", "probability": 0.8}]})
    with fresh_database(kind, tmp_path, migrate=False) as url:
        with running_server(url) as (srv, proc):
            answer = requests.post(f"{srv.url}/fhir/$convert", data=sample, timeout=60,
                                   headers=srv.headers(**{"Content-Type": "application/json"}))
            report = answer.json()["parameter"][0]["resource"]["entry"][0]["resource"]["id"]

            def read(_: int) -> int:
                return requests.get(f"{srv.url}/fhir/DiagnosticReport/{report}",
                                    headers=srv.headers(), timeout=30).status_code

            with ThreadPoolExecutor(8) as pool:  # requests answered at the same moment
                statuses = list(pool.map(read, range(64)))
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        assert statuses == [200] * 64
        store = Store(url)
        try:
            events = audit.search(store, [Criterion("entity", [(None, f"DiagnosticReport/{report}")])],
                                  1000, 0).resources
        finally:
            store.dispose()
        kinds = sorted(e["subtype"][0]["code"] for e in events)
        assert kinds == ["operation"] + ["read"] * 64
