"""The work queue on SQLite and PostgreSQL: one claim per job, leases, retries, dead letters."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from allfhir.store import Store, jobs
from allfhir.store.schema import jobs as jobs_table


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.dispose()


def test_a_key_queues_its_work_once(store: Store) -> None:
    first = jobs.submit(store, "convert", {"n": 1}, key="convert:abc")
    again = jobs.submit(store, "convert", {"n": 2}, key="convert:abc")
    other = jobs.submit(store, "convert", {"n": 3}, key="convert:def")
    assert again == first != other
    assert jobs.get(store, first).payload == {"n": 1}


def test_a_job_queued_in_a_transaction_that_rolls_back_does_not_exist(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        jobs.enqueue(conn, "convert", {}, key="k")
        raise RuntimeError("the data it was about was not stored")
    assert jobs.claim(store, "w1") == []


def test_claim_takes_due_jobs_in_order_and_each_once(store: Store) -> None:
    a = jobs.submit(store, "convert", {"n": 1})
    b = jobs.submit(store, "convert", {"n": 2})
    [got] = jobs.claim(store, "w1")
    assert (got.id, got.state, got.attempts) == (a, "running", 1)
    [got2] = jobs.claim(store, "w2")
    assert got2.id == b
    assert jobs.claim(store, "w3") == []


def test_claim_filters_by_kind(store: Store) -> None:
    jobs.submit(store, "convert", {})
    d = jobs.submit(store, "deliver", {})
    assert [j.id for j in jobs.claim(store, "w", ["deliver"], limit=5)] == [d]


def test_concurrent_claims_never_take_the_same_job(store: Store) -> None:
    ids = {jobs.submit(store, "convert", {"n": i}) for i in range(20)}
    taken: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while True:
            got = jobs.claim(store, name, limit=2)
            if not got:
                return
            with lock:
                taken.extend(j.id for j in got)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == sorted(ids)  # every job once, none twice


def test_a_lapsed_lease_is_claimed_again_and_the_first_workers_answer_is_ignored(store: Store) -> None:
    job = jobs.submit(store, "convert", {})
    jobs.claim(store, "dead-worker", lease=60)
    assert jobs.claim(store, "w2") == []  # leased
    with store.transaction() as conn:  # the lease runs out (the worker was killed)
        conn.execute(update(jobs_table).values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))
    [again] = jobs.claim(store, "w2")
    assert (again.id, again.attempts) == (job, 2)
    assert jobs.complete(store, job, "dead-worker", {"late": True}) is False
    assert jobs.complete(store, job, "w2", {"ok": True}) is True
    done = jobs.get(store, job)
    assert (done.state, done.result) == ("done", {"ok": True})


def test_retry_waits_its_delay_and_keeps_the_error(store: Store) -> None:
    job = jobs.submit(store, "deliver", {})
    jobs.claim(store, "w")
    assert jobs.retry(store, job, "w", 0.3, "HTTP 503") is True
    got = jobs.get(store, job)
    assert (got.state, got.error) == ("queued", "HTTP 503")
    assert jobs.claim(store, "w") == []  # not due yet
    time.sleep(0.4)
    assert [j.id for j in jobs.claim(store, "w")] == [job]


def test_a_failed_job_stays_failed_until_requeued(store: Store) -> None:
    job = jobs.submit(store, "deliver", {})
    jobs.claim(store, "w")
    assert jobs.fail(store, job, "w", "HTTP 422: Patient unknown", {"status": 422})
    assert jobs.claim(store, "w") == []
    got = jobs.get(store, job)
    assert (got.state, got.error, got.result) == ("failed", "HTTP 422: Patient unknown", {"status": 422})
    assert jobs.requeue(store, job) is True
    assert [j.id for j in jobs.claim(store, "w")] == [job]
    assert jobs.requeue(store, job) is False  # running: nothing to requeue


def test_cancel_stops_a_job_and_its_heartbeat_tells_the_worker(store: Store) -> None:
    queued = jobs.submit(store, "convert", {"n": 1})
    running = jobs.submit(store, "convert", {"n": 2})
    assert jobs.cancel(store, queued) is True
    [got] = jobs.claim(store, "w")
    assert got.id == running
    assert jobs.heartbeat(store, running, "w", progress="half") is True
    assert jobs.get(store, running).progress == "half"
    assert jobs.cancel(store, running) is True
    assert jobs.heartbeat(store, running, "w") is False
    assert jobs.complete(store, running, "w") is False
    assert jobs.get(store, running).state == "cancelled"
    assert jobs.cancel(store, running) is False


def test_of_kind_lists_by_key_prefix(store: Store) -> None:
    a = jobs.submit(store, "deliver", {}, key="deliver:ep1:DiagnosticReport/r1:1")
    jobs.submit(store, "deliver", {}, key="deliver:ep2:DiagnosticReport/r1:1")
    jobs.submit(store, "convert", {}, key="deliver:ep1:x")
    assert [j.id for j in jobs.of_kind(store, "deliver", "deliver:ep1:")] == [a]


def test_an_id_no_database_integer_holds_names_no_job(store: Store) -> None:
    # job ids arrive from URLs (/$export-output/<int:job>/...): 2**73 is a 404, not a failed query
    job = jobs.submit(store, "convert", {"n": 1})
    assert [jobs.get(store, n) for n in (0, -1, 2**63, 2**73)] == [None] * 4
    assert jobs.get(store, job).id == job
