"""The work queue: durable rows in the service's own database, claimed by worker processes.

One mechanism for every piece of background work (asynchronous `$convert`, delivery to
receiving systems, bulk export). It lives in the database the service already has, so the
embedded default (SQLite) needs no broker, and a job written in the same transaction as the
data it is about (the delivery outbox) exists exactly when that data does.

- PostgreSQL: several workers claim with `SELECT ... FOR UPDATE SKIP LOCKED`; a claimed row is
  invisible to the others until its transaction ends, so no job is claimed twice.
- SQLite: write transactions begin IMMEDIATE (engine.py), so claims are serialised by the
  database lock; run one worker.
- A claim is a lease: a worker that dies leaves its job `running` with a lease in the past, and
  the next claim takes it again (at-least-once; handlers are written to be idempotent).
- A finishing call names its worker: after a lease ran out and another worker took the job, the
  first one's late answer changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .engine import Store
from .schema import jobs

Json = dict[str, Any]

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINAL = (DONE, FAILED, CANCELLED)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    key: str | None
    state: str
    payload: Json
    attempts: int
    run_after: datetime
    progress: str | None
    result: Json | None
    error: str | None
    created: datetime
    updated: datetime


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _job(row: Any) -> Job:
    return Job(row.id, row.kind, row.key, row.state, row.payload, row.attempts,
               _utc(row.run_after), row.progress, row.result, row.error, _utc(row.created),
               _utc(row.updated))


def enqueue(conn: Connection, kind: str, payload: Json, *, key: str | None = None,
            delay: float = 0.0) -> int:
    """Queue a job inside the caller's transaction. A `key` names the work: queuing the same key
    again returns the first job (its unique constraint decides, also between processes)."""
    if key is not None:
        found = conn.execute(select(jobs.c.id).where(jobs.c.key == key)).scalar()
        if found is not None:
            return int(found)
    now = datetime.now(UTC)
    try:
        with conn.begin_nested():
            return int(conn.execute(insert(jobs).values(
                kind=kind, key=key, state=QUEUED, payload=payload, attempts=0,
                run_after=now + timedelta(seconds=delay), created=now, updated=now,
            ).returning(jobs.c.id)).scalar_one())
    except IntegrityError:
        # the same key was queued by a concurrent transaction that committed first
        return int(conn.execute(select(jobs.c.id).where(jobs.c.key == key)).scalar_one())


def submit(store: Store, kind: str, payload: Json, *, key: str | None = None) -> int:
    """Queue a job in a transaction of its own."""
    with store.transaction() as conn:
        return enqueue(conn, kind, payload, key=key)


def get(store: Store, job_id: int) -> Job | None:
    """The job of that id; None for an id no job can have (a URL's number beyond the BIGINT
    column is not found, not an overflow in the driver)."""
    if not 0 < job_id < 2**63:
        return None
    with store.reading() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    return _job(row) if row else None


def claim(store: Store, worker: str, kinds: Sequence[str] | None = None, *,
          lease: float = 60.0, limit: int = 1) -> list[Job]:
    """Take up to `limit` due jobs (queued and due, or running with a lapsed lease)."""
    now = datetime.now(UTC)
    due = or_(and_(jobs.c.state == QUEUED, jobs.c.run_after <= now),
              and_(jobs.c.state == RUNNING, jobs.c.lease_until < now))
    if kinds:
        due = and_(due, jobs.c.kind.in_(list(kinds)))
    query = select(jobs.c.id).where(due).order_by(jobs.c.run_after, jobs.c.id).limit(limit)
    with store.transaction() as conn:
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = [r.id for r in conn.execute(query)]
        if not ids:
            return []
        conn.execute(update(jobs).where(jobs.c.id.in_(ids)).values(
            state=RUNNING, worker=worker, attempts=jobs.c.attempts + 1,
            lease_until=now + timedelta(seconds=lease), updated=now))
        rows = conn.execute(select(jobs).where(jobs.c.id.in_(ids)).order_by(jobs.c.run_after,
                                                                               jobs.c.id))
        return [_job(r) for r in rows]


def _finish(store: Store, job_id: int, worker: str, **values: Any) -> bool:
    values["updated"] = datetime.now(UTC)
    with store.transaction() as conn:
        done = conn.execute(update(jobs).where(
            (jobs.c.id == job_id) & (jobs.c.state == RUNNING) & (jobs.c.worker == worker)
        ).values(**values))
        return done.rowcount == 1


def heartbeat(store: Store, job_id: int, worker: str, *, lease: float = 60.0,
              progress: str | None = None) -> bool:
    """Extend the lease (and say how far the job is). False: the job is no longer ours."""
    values: Json = {"lease_until": datetime.now(UTC) + timedelta(seconds=lease)}
    if progress is not None:
        values["progress"] = progress
    return _finish(store, job_id, worker, **values)


def complete(store: Store, job_id: int, worker: str, result: Json | None = None) -> bool:
    return _finish(store, job_id, worker, state=DONE, result=result, lease_until=None, error=None)


def retry(store: Store, job_id: int, worker: str, delay: float, error: str) -> bool:
    """Back to the queue, due after `delay` seconds (the error is kept for the status view)."""
    return _finish(store, job_id, worker, state=QUEUED, error=error, lease_until=None,
                   run_after=datetime.now(UTC) + timedelta(seconds=delay))


def fail(store: Store, job_id: int, worker: str, error: str, result: Json | None = None) -> bool:
    """Dead letter: kept with its error and never claimed again until requeued."""
    return _finish(store, job_id, worker, state=FAILED, error=error, result=result,
                   lease_until=None)


def requeue(store: Store, job_id: int) -> bool:
    """A failed (or cancelled) job runs again, now (an operator's retry)."""
    now = datetime.now(UTC)
    with store.transaction() as conn:
        done = conn.execute(update(jobs).where(
            (jobs.c.id == job_id) & jobs.c.state.in_([FAILED, CANCELLED])
        ).values(state=QUEUED, run_after=now, updated=now, lease_until=None))
        return done.rowcount == 1


def cancel(store: Store, job_id: int) -> bool:
    """A job that has not finished will not run (again); a running one is told at its next
    heartbeat, which then answers False."""
    now = datetime.now(UTC)
    with store.transaction() as conn:
        done = conn.execute(update(jobs).where(
            (jobs.c.id == job_id) & jobs.c.state.in_([QUEUED, RUNNING])
        ).values(state=CANCELLED, updated=now, lease_until=None))
        return done.rowcount == 1


def of_kind(store: Store, kind: str, key_prefix: str | None = None) -> list[Job]:
    """The jobs of one kind (those whose key starts with `key_prefix`), oldest first."""
    query = select(jobs).where(jobs.c.kind == kind)
    if key_prefix is not None:
        query = query.where(jobs.c.key.startswith(key_prefix, autoescape=True))
    with store.reading() as conn:
        return [_job(r) for r in conn.execute(query.order_by(jobs.c.id))]
