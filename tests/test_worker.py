"""The worker's handling of a handler's answers: result, RetryLater, Refused, a crash."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from allfhir import worker as worker_module
from allfhir.settings import Settings
from allfhir.store import Store, jobs
from allfhir.worker import Refused, RetryLater, Worker, backoff


def answers(ctx: Any) -> dict | None:
    what = ctx.job.payload["do"]
    if what == "later":
        raise RetryLater(30, "HTTP 503 from the receiver")
    if what == "refuse":
        raise Refused("HTTP 422: unknown patient", {"status": 422})
    if what == "crash":
        raise KeyError("surprise")
    ctx.progress("half way")
    return {"did": what}


@pytest.fixture
def queue(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Worker, Store]]:
    monkeypatch.setitem(worker_module.HANDLERS, "test", "tests.test_worker:answers")
    w = Worker(Settings(database_url=database_url), ["test"], name="w1", max_attempts=2)
    yield w, w.store
    w.store.dispose()


def test_a_result_completes_the_job(queue: tuple[Worker, Store]) -> None:
    w, store = queue
    job = jobs.submit(store, "test", {"do": "it"})
    assert w.run_once() is True
    got = jobs.get(store, job)
    assert (got.state, got.result, got.progress) == ("done", {"did": "it"}, "half way")


def test_retry_later_requeues_with_its_delay(queue: tuple[Worker, Store]) -> None:
    w, store = queue
    job = jobs.submit(store, "test", {"do": "later"})
    w.run_once()
    got = jobs.get(store, job)
    assert (got.state, got.error) == ("queued", "HTTP 503 from the receiver")
    assert 29 < (got.run_after - got.updated).total_seconds() <= 30
    assert w.run_once() is False  # not due


def test_refused_is_a_dead_letter_with_the_reason(queue: tuple[Worker, Store]) -> None:
    w, store = queue
    job = jobs.submit(store, "test", {"do": "refuse"})
    w.run_once()
    got = jobs.get(store, job)
    assert (got.state, got.error, got.result) == ("failed", "HTTP 422: unknown patient", {"status": 422})


def test_a_crash_is_retried_then_given_up(queue: tuple[Worker, Store]) -> None:
    w, store = queue
    job = jobs.submit(store, "test", {"do": "crash"})
    w.run_once()
    got = jobs.get(store, job)
    assert (got.state, got.error) == ("queued", "KeyError: 'surprise'")
    with store.transaction() as conn:  # make it due now
        from sqlalchemy import update

        from allfhir.store.schema import jobs as table
        conn.execute(update(table).values(run_after=got.created))
    w.run_once()
    got = jobs.get(store, job)
    assert got.state == "failed" and got.error == "gave up after 2 attempts: KeyError: 'surprise'"


def test_an_unknown_kind_is_refused_at_start(database_url: str) -> None:
    with pytest.raises(ValueError, match="unknown job kind"):
        Worker(Settings(database_url=database_url), ["nope"])


def test_backoff_grows_and_is_capped() -> None:
    for attempt, ceiling in [(1, 2), (2, 4), (5, 32), (30, 3600)]:
        assert all(0 <= backoff(attempt) <= ceiling for _ in range(50))
