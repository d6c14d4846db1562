"""AuditEvents (IHE BALP style: who, what, when, outcome), one per access, append-only, and
their search (date, agent, entity, action) for the administrators who review them."""

from __future__ import annotations

import threading
import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, not_, or_, select

from . import driver
from .engine import Store
from .reads import Criterion, DateCriterion, Page
from .schema import audit_entities, audit_events

Json = dict[str, Any]


def entity_references(event: Json) -> list[str]:
    """What an event is about: the 'Type/id' of each entity (a query has none)."""
    refs = [(e.get("what") or {}).get("reference") for e in event.get("entity") or []]
    return sorted({r[:255] for r in refs if isinstance(r, str) and r})


# Built once: a statement per request is built, cached and compiled once per process, not per call
INSERT_EVENT = insert(audit_events)
INSERT_ENTITY = insert(audit_entities)


@dataclass(slots=True)
class _Pending:
    row: Json
    entities: list[Json]
    done: bool = False
    error: BaseException | None = None


class GroupCommit:
    """The AuditEvents of one Store's requests, committed together when they arrive together.

    A request's event is committed before `record` returns (so before its response is sent), as
    one transaction per event did. While one thread commits, the events of the others queue;
    the next of them to wake commits all that queued, in one transaction. A worker answering
    several requests at once thus pays one transaction (and one turn at SQLite's write lock)
    for several events, and one alone pays what it paid before."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ready = threading.Condition()
        self._queued: list[_Pending] = []
        self._writing = False

    def record(self, row: Json, entities: list[Json]) -> None:
        mine = _Pending(row, entities)
        with self._ready:
            self._queued.append(mine)
            while not mine.done:
                if self._writing:
                    self._ready.wait()
                    continue
                batch, self._queued, self._writing = self._queued, [], True
                error: BaseException | None = None
                self._ready.release()
                try:
                    self._write(batch)
                except BaseException as err:  # every event of the batch is lost: each says so
                    error = err
                finally:
                    self._ready.acquire()
                    for p in batch:
                        p.done, p.error = True, error
                    self._writing = False
                    self._ready.notify_all()
        if mine.error is not None:
            raise mine.error

    def _write(self, batch: list[_Pending]) -> None:
        # not durable: an AuditEvent is written per request, and waiting for the disk each time
        # was most of a read's time; a killed server still loses none (Store.driver_transaction)
        with self.store.driver_transaction(durable=False, pipelined=True) as conn:
            _insert(self.store, conn, [p.row for p in batch], [e for p in batch for e in p.entities])


_writers: weakref.WeakKeyDictionary[Store, GroupCommit] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def _writer(store: Store) -> GroupCommit:
    with _writers_lock:
        writer = _writers.get(store)
        if writer is None:
            writer = _writers[store] = GroupCommit(store)
        return writer


def record(store: Store, event: Json) -> None:
    """Store an AuditEvent resource (id and `recorded` are set here); committed on return."""
    _writer(store).record(*_rows(event))


def write(store: Store, conn: driver.Transaction, event: Json) -> None:
    """`record`, inside `conn`'s transaction (a write's own: the event commits with what it
    says was written, or not at all)."""
    row, entities = _rows(event)
    _insert(store, conn, [row], entities)


def _insert(store: Store, conn: driver.Transaction, rows: list[Json], entities: list[Json]) -> None:
    driver.insert_many(conn, store.statements[INSERT_EVENT], rows)
    if entities:
        driver.insert_many(conn, store.statements[INSERT_ENTITY], entities)


def _rows(event: Json) -> tuple[Json, list[Json]]:
    """The event's row (id and `recorded` set now) and its entities' rows."""
    now = datetime.now(UTC)
    event = {**event, "id": str(uuid.uuid4()),
             "recorded": now.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    agent = (event.get("agent") or [{}])[0].get("who", {}).get("display", "")
    row = {"id": event["id"], "recorded": now, "agent": agent[:100],
           "action": event.get("action", "E"), "outcome": event.get("outcome", "0"),
           "resource": event}
    return row, [{"event_id": event["id"], "reference": r} for r in entity_references(event)]


def recent(store: Store, limit: int = 100) -> list[Json]:
    with store.reading() as conn:
        return list(conn.execute(select(audit_events.c.resource)
                                 .order_by(audit_events.c.recorded.desc()).limit(limit)).scalars())


def read(store: Store, event_id: str) -> Json | None:
    with store.reading() as conn:
        return conn.execute(select(audit_events.c.resource)
                            .where(audit_events.c.id == event_id)).scalar_one_or_none()


def _at(prefix: str, t: Any, low: datetime, high: datetime) -> ColumnElement[bool]:
    # `recorded` is an instant: a point t against the search range [low, high) (R4 prefixes)
    return {"eq": (t >= low) & (t < high), "ne": not_((t >= low) & (t < high)), "gt": t >= high,
            "lt": t < low, "ge": t >= low, "le": t < high, "sa": t >= high, "eb": t < low}[prefix]


def search(store: Store, criteria: list[Criterion | DateCriterion], count: int, offset: int) -> Page:
    """Events matching every criterion (date, agent, entity, action), newest first."""
    a, e = audit_events.c, audit_entities.c
    conds: list[ColumnElement[bool]] = []
    for crit in criteria:
        if isinstance(crit, DateCriterion):
            conds.append(or_(*[_at(p, a.recorded, low, high) for p, low, high in crit.values]))
        elif crit.param == "entity":
            conds.append(exists().where(e.event_id == a.id,
                                        e.reference.in_([v for _, v in crit.values])))
        else:  # agent (the client's name) and action are columns of the event
            conds.append({"agent": a.agent, "action": a.action}[crit.param].in_(
                [v for _, v in crit.values]))
    with store.reading() as conn:
        total = conn.execute(select(func.count()).select_from(audit_events).where(*conds)).scalar_one()
        rows = conn.execute(select(a.resource).where(*conds).order_by(a.recorded.desc(), a.id)
                            .limit(count).offset(offset)).scalars().all() if count else []
    return Page(list(rows), total)
