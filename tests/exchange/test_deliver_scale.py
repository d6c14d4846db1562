"""Three `allfhir deliver --worker` processes on PostgreSQL and 1,000 queued reports: every report
reaches the receiver exactly once (its request log), and every delivery is done at its first
attempt."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.api.conftest import Api
from tests.exchange.conftest import StartServer, add_endpoint
from tests.exchange.test_deliver_workers import cohort, deliver_with_workers, deliveries

REPORTS = 1000
WORKERS = 3


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_workers_on_postgresql_deliver_1000_reports_once(api: Api, database_url: str,
                                                               tmp_path: Path,
                                                               status_servers: StartServer) -> None:
    receiver = status_servers()  # answers at once: the workers race for the queue
    add_endpoint(api, receiver.url)
    # the real write path once: 1,000 reports stored, their deliveries queued with them
    samples = cohort(REPORTS)
    r = api.client.post("/fhir/$convert?format=allsorts", data=samples,
                        content_type="text/csv", headers=api.auth("admin"))
    assert r.status_code == 200, r.get_data(as_text=True)[:2000]
    assert Counter(state for state, _, _ in deliveries(api)) == {"queued": REPORTS}
    done = deliver_with_workers(api, database_url, tmp_path, WORKERS, bound=600, pause=0.5)
    assert len(done) == REPORTS
    assert {attempts for _, attempts, _ in done} == {1}  # nothing needed a retry
    assert len({worker for _, _, worker in done}) == WORKERS  # all three took part
    log = receiver.log()
    assert len(log) == REPORTS  # one POST per report: none twice
    sent = Counter(req["body"]["entry"][0]["resource"]["identifier"][0]["value"]
                   for req in log)
    assert sent == {f"allsorts:{row.split(',')[0]}": 1
                    for row in samples.decode().splitlines()[1:]}  # none lost
