"""Scale-out: two `allfhir serve` processes on one PostgreSQL database share everything through
it (no state in process memory): what one stores the other reads, and identical submissions
sent to both at once create one set (database constraints, not a lock in either process)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from allfhir.store.schema import resource_history, submissions
from tests.conftest import DATA, fresh_database
from tests.server.live import Server, rows, running_server

ALLSORTS = DATA / "classifiers" / "allsorts-predictions.csv"
CSV = {"Content-Type": "text/csv"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    tmp: Path = tmp_path_factory.mktemp("scale-out")
    with fresh_database("postgresql", tmp, migrate=False) as url, \
            running_server(url) as (one, _), running_server(url, key=one.key) as (two, _):
        yield one, two


def reports(response: requests.Response) -> list[dict]:
    assert response.status_code == 200, response.text[:500]
    return [p["resource"] for p in response.json()["parameter"] if p["name"] == "report"]


def test_what_one_server_stores_the_other_reads_and_finds(pair: tuple[Server, Server]) -> None:
    one, two = pair
    body = ALLSORTS.read_bytes().replace(b"SJBALL043684", b"SCALE-OUT-1")
    bundles = reports(requests.post(f"{one.url}/fhir/$convert", data=body, timeout=60,
                                    headers=one.headers(**CSV), params={"format": "allsorts"}))
    report = bundles[0]["entry"][0]["resource"]
    got = requests.get(f"{two.url}/fhir/DiagnosticReport/{report['id']}", headers=two.headers(), timeout=10)
    assert (got.status_code, got.headers["ETag"]) == (200, 'W/"1"')
    # the stored copy (server references instead of urn:uuid) is the same from either server
    assert got.json() == requests.get(f"{one.url}/fhir/DiagnosticReport/{report['id']}",
                                      headers=one.headers(), timeout=10).json()
    assert [r["reference"] for r in got.json()["result"]] == [
        r["reference"].replace("urn:uuid:", "Observation/") for r in report["result"]]
    identifier = report["identifier"][0]
    found = requests.get(f"{two.url}/fhir/DiagnosticReport", headers=two.headers(), timeout=10,
                         params={"identifier": f"{identifier['system']}|{identifier['value']}"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [report["id"]]
    # and the first server answers the same resubmission sent to the second from the store
    again = reports(requests.post(f"{two.url}/fhir/$convert", data=body, timeout=60,
                                  headers=two.headers(**CSV), params={"format": "allsorts"}))
    assert again == bundles


def test_identical_submissions_to_both_servers_at_once_create_one_set(pair: tuple[Server, Server]) -> None:
    one, two = pair
    body = ALLSORTS.read_bytes().replace(b"SJBALL043684", b"SCALE-OUT-2")
    before_subs, before_hist = rows(one.database_url, submissions), rows(one.database_url, resource_history)

    def submit(i: int) -> requests.Response:
        srv = (one, two)[i % 2]
        return requests.post(f"{srv.url}/fhir/$convert", data=body, timeout=120, headers=srv.headers(**CSV))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(submit, range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert all(a.json() == answers[0].json() for a in answers)
    bundles = reports(answers[0])
    assert rows(one.database_url, submissions) == before_subs + 1
    # only resources this submission wrote carry its time (unchanged ones keep the earlier one)
    written = {bundles[0]["entry"][0]["resource"]["meta"]["lastUpdated"]}
    new = {(e["resource"]["resourceType"], e["resource"]["id"]) for b in bundles for e in b["entry"]
           if e["resource"]["meta"]["lastUpdated"] in written}
    assert rows(one.database_url, resource_history) - before_hist == len(new) > 0
