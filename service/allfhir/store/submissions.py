"""Storing a submission: its raw input and every resource of its report Bundles, in ONE transaction.

- The same content (same sha256) or the same Idempotency-Key again writes nothing and returns
  what the first submission returned. The unique constraints on `submissions` decide it, so of
  several identical submissions at once exactly one writes and the others read its result.
- A changed submission for the same report (same deterministic resource ids) makes a new version
  of each resource whose content changed; the DiagnosticReport of a changed report becomes
  `amended`. Unchanged resources keep their version.
- The stored reports a submission amends are locked (FOR UPDATE) in its transaction: racing
  amendments of one report on PostgreSQL queue and each becomes a version, none fails.
- `If-Match` (a version number, or '*') guards the reports a submission amends: checked in the
  writing transaction, so of two racing amendments of version 1 one stands and the other is a
  412. A changed submission that names another patient than the stored report is a 409: the
  same report identity for two patients is a mix-up to resolve, never an amendment.
- Stored copies point at each other as `Type/id` (what a FHIR server resolves); the Bundles
  returned keep their `urn:uuid:` references, which resolve inside the Bundle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, Select, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import jsonout
from ..errors import RequestError
from . import driver
from .engine import Store
from .index import date_rows, index_rows
from .schema import resource_history, resources, search_dates, search_index, submissions

Json = dict[str, Any]
RETRIES = 5


@dataclass(frozen=True, slots=True)
class Submission:
    """What arrived: the raw body and a digest of what is converted from it."""

    body: bytes
    sha256: str
    content_type: str | None = None
    format: str | None = None
    client: str | None = None
    idempotency_key: str | None = None


class _Report(NamedTuple):
    """A stored report a submission may amend (_guard)."""

    version_id: int
    resource: Json


class _Version(NamedTuple):
    """The current version of a stored resource (_current_versions)."""

    version_id: int
    content_hash: str
    last_updated: datetime


@dataclass(frozen=True, slots=True)
class Stored:
    """What a submission returned: stored report Bundles and the refused rows' OperationOutcome."""

    reports: list[Json]
    outcome: Json | None
    created: bool  # False: a resubmission answered from the first one


def digest(*parts: bytes | str) -> str:
    """sha256 over length-prefixed parts (so ('ab','c') and ('a','bc') differ)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def content_hash(resource: Json) -> str:
    # json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False), through orjson
    return hashlib.sha256(jsonout.dumps_bytes(resource, sort_keys=True)).hexdigest()


def instant(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def find(store: Store, sha256: str, idempotency_key: str | None) -> Stored | None:
    # a read: no write transaction (on SQLite that would queue on the write lock and wait for the
    # disk at commit, for nothing); save() looks again inside its own transaction
    statement, values = _found_by(sha256, idempotency_key)
    return _stored(driver.first(store.engine, store.statements[statement], values))


# The statements of every submission, built once (building one costs about what running it does)
# and run on the driver (store/driver.py: SQLAlchemy's per-statement machinery was most of the
# time a submission spent in the database)
_s, _r = submissions.c, resources.c
FIND = select(_s.result).where(_s.sha256 == bindparam("sha256")).limit(1)
FIND_OR_KEY = select(_s.result).where(or_(_s.sha256 == bindparam("sha256"),
                                          _s.idempotency_key == bindparam("key"))).limit(1)
INSERT = insert(submissions).values(
    {c: bindparam(c) for c in ("sha256", "idempotency_key", "format", "content_type", "client",
                               "received", "body", "result")}).returning(_s.id)
# The statements per number of ids are kept, never evicted: the store's prepared statements are
# keyed by the statement object, so one rebuilt would be compiled and kept again. There are as
# many as the numbers of resources a Bundle and of samples a submission has had.


@cache
def _reports(ids: int) -> Select:
    """The stored reports a submission may amend, locked until it commits (_guard): a statement
    per number of reports, its ids bound as id0, id1 ... (what the driver binds)."""
    return select(_r.id, _r.version_id, _r.resource).where(
        _r.type == "DiagnosticReport", _r.id.in_([bindparam(f"id{i}", type_=_r.id.type) for i in range(ids)])
    ).order_by(_r.id).with_for_update()


@cache
def _current(types: int, ids: int) -> Select:
    """The current versions of a Bundle's resources: types x ids, the pairs picked in Python
    (SQLite scans the table for a row-value `(type, id) IN (...)`; two INs search the primary
    key); bound as type0 ... and id0 ..."""
    return select(_r.type, _r.id, _r.version_id, _r.content_hash, _r.last_updated).where(
        _r.type.in_([bindparam(f"type{i}", type_=_r.type.type) for i in range(types)]),
        _r.id.in_([bindparam(f"id{i}", type_=_r.id.type) for i in range(ids)]))


def _found_by(sha256: str, idempotency_key: str | None) -> tuple[Select, dict[str, Any]]:
    return (FIND_OR_KEY, {"sha256": sha256, "key": idempotency_key}) if idempotency_key \
        else (FIND, {"sha256": sha256})


def _stored(row: tuple[Any, ...] | None) -> Stored | None:
    if row is None or row[0] is None:
        return None
    result = row[0]
    return Stored(result["reports"], result.get("outcome"), created=False)


def _find(store: Store, conn: Connection, sha256: str, idempotency_key: str | None) -> Stored | None:
    statement, values = _found_by(sha256, idempotency_key)
    found = driver.rows(conn, store.statements[statement], values)
    return _stored(found[0] if found else None)


# Called inside the transaction that stores a new submission, with the stored Bundles: what must
# exist exactly when the reports do (the delivery outbox's rows) is written there.
AfterWrite = Callable[[Store, Connection, list[Json]], None]


def save(store: Store, sub: Submission, bundles: list[Json], outcome: Json | None,
         if_match: int | str | None = None, after: AfterWrite | None = None) -> Stored:
    """Store the submission and its Bundles; a resubmission returns the first result (it
    writes nothing, so `if_match` has nothing to guard then, and runs no `after`: its work was
    queued by the first)."""
    # What a submission of new reports writes is worked out before its transaction, which on
    # SQLite is a turn of the one writer: the turn holds only the statements and the commit
    # (worked out inside, that was a third of a new `$convert`'s turn, and the turns of every
    # writer queue one behind the other). A report stored already is worked out again inside,
    # against its versions. So the resources' lastUpdated (and the submission's received) is
    # when the rows were worked out, a few ms before the commit, as in any database where
    # concurrent transactions commit in their own order.
    now = datetime.now(UTC)
    as_new = _plan(bundles, {}, now)
    for attempt in range(RETRIES):
        try:
            with store.transaction() as conn:
                found = _find(store, conn, sub.sha256, sub.idempotency_key)
                if found:
                    return found
                _guard(store, conn, bundles, if_match)
                current = _current_versions(store, conn, bundles)
                plan = _plan(bundles, current, now) if current else as_new
                stored = _write(store, conn, sub, plan, outcome, now)
                if after is not None:
                    after(store, conn, stored.reports)
                return stored
        except IntegrityError:
            # Someone stored the same submission (or the same resource version) first: theirs
            # stands. Read it; if it was a different submission of the same report, try again
            # on top of it.
            found = find(store, sub.sha256, sub.idempotency_key)
            if found:
                return found
            if attempt == RETRIES - 1:
                raise RequestError("conflict", f"the report was changed by {RETRIES} other "
                                   "submissions while this one was stored: submit it again") from None
    raise AssertionError("unreachable")


def _guard(store: Store, conn: Connection, bundles: list[Json], if_match: int | str | None) -> None:
    """412 when a report is not at the version `if_match` names; 409 when a report would move
    to another patient. The stored reports stay locked until this transaction ends, so
    amendments of one report queue on PostgreSQL instead of colliding and retrying (SQLite's
    writers queue anyway); locked in id order, so two multi-report submissions cannot deadlock."""
    reports = [b["entry"][0]["resource"] for b in bundles]
    found = driver.rows(conn, store.statements[_reports(len(reports))],
                        {f"id{i}": rep["id"] for i, rep in enumerate(reports)})
    stored = {rid: _Report(version, resource) for rid, version, resource in found}
    for rep in reports:
        old = stored.get(rep["id"])
        if if_match is not None and old is None:
            raise RequestError("precondition-failed", f"If-Match: DiagnosticReport/{rep['id']} is "
                               "not stored yet, so no version of it matches")
        if if_match not in (None, "*") and old.version_id != if_match:
            raise RequestError("precondition-failed", f"If-Match: DiagnosticReport/{rep['id']} is "
                               f"at version {old.version_id}, not {if_match}: read it again and "
                               "resubmit against the current version")
        before, now = (old.resource.get("subject") if old else None), rep.get("subject")
        if before and now and before != now:
            raise RequestError("conflict", f"DiagnosticReport/{rep['id']} (report "
                               f"{rep['identifier'][0]['value']}) is stored for another patient: "
                               "the same sample reported for two patients is a mix-up to resolve "
                               "in the LIMS, not an amendment")


@dataclass(slots=True)
class _Plan:
    """What a submission writes, worked out from its Bundles and the current versions of their
    resources: the Bundles as answered (meta stamped) and the rows of each table."""

    bundles: list[Json]
    created: list[Json] = field(default_factory=list)
    history: list[Json] = field(default_factory=list)  # their submission_id is set by _write
    index: list[Json] = field(default_factory=list)
    dates: list[Json] = field(default_factory=list)
    # a stored resource's new version: (type, id), the version it replaces, the new values
    replaced: list[tuple[tuple[str, str], int, Json]] = field(default_factory=list)
    # the row (created) or values (replaced) of each resource written, by (type, id)
    written: dict[tuple[str, str], Json] = field(default_factory=dict)


def _keys(bundle: Json) -> list[tuple[str, str]]:
    return [(e["resource"]["resourceType"], e["resource"]["id"])
            for e in bundle.get("entry", []) if "resource" in e]


def _current_versions(store: Store, conn: Connection, bundles: list[Json]
                      ) -> dict[tuple[str, str], _Version]:
    """The stored versions of the Bundles' resources (none: every resource is new)."""
    current: dict[tuple[str, str], _Version] = {}
    for bundle in bundles:
        keys = _keys(bundle)
        if not keys:
            continue
        types = sorted({t for t, _ in keys})
        found = driver.rows(conn, store.statements[_current(len(types), len(keys))], {
            **{f"type{i}": t for i, t in enumerate(types)},
            **{f"id{i}": rid for i, (_, rid) in enumerate(keys)}})
        wanted = set(keys)
        current.update({(t, rid): _Version(*rest) for t, rid, *rest in found if (t, rid) in wanted})
    return current


def _plan(bundles: list[Json], current: dict[tuple[str, str], _Version], now: datetime) -> _Plan:
    # a copy to stamp meta into (a plan starts from the pipeline's Bundles again); through JSON:
    # these are JSON documents, and orjson copies them faster than deepcopy
    plan = _Plan(orjson.loads(jsonout.dumps_bytes(bundles)))
    for bundle in plan.bundles:
        _plan_bundle(plan, bundle, current, now)
    return plan


def _version(plan: _Plan, current: dict[tuple[str, str], _Version], key: tuple[str, str]
             ) -> _Version | None:
    """A resource's version as the plan's next Bundle finds it: a resource of several Bundles
    (the classifier's Device, a trial's ResearchStudy) is written by the first and found by the
    next, as if each Bundle were stored in turn."""
    row = plan.written.get(key)
    if row is not None:
        return _Version(row["version_id"], row["content_hash"], row["last_updated"])
    return current.get(key)


def _plan_bundle(plan: _Plan, bundle: Json, current: dict[tuple[str, str], _Version],
                 now: datetime) -> None:
    entries = [e for e in bundle.get("entry", []) if "resource" in e]
    local = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
             for e in entries if "fullUrl" in e}
    keys = _keys(bundle)
    found = [_version(plan, current, k) for k in keys]
    changed_report = any(
        old is not None and old.content_hash != content_hash(e["resource"])
        for old, e in zip(found, entries, strict=True))
    for key, entry, old in zip(keys, entries, found, strict=True):
        resource = entry["resource"]
        digest_ = content_hash(resource)
        if old is not None and old.content_hash == digest_ and not (
                changed_report and key[0] == "DiagnosticReport"):
            # unchanged: the Bundle answers with the stored version
            meta = resource.setdefault("meta", {})
            meta["versionId"] = str(old.version_id)
            meta["lastUpdated"] = instant(old.last_updated)
            if key[0] == "DiagnosticReport" and old.version_id > 1:
                resource["status"] = "amended"  # every later version of a report is an amendment
            continue
        if key[0] == "DiagnosticReport" and old is not None and changed_report:
            resource["status"] = "amended"
        version = 1 if old is None else old.version_id + 1
        meta = resource.setdefault("meta", {})
        meta["versionId"] = str(version)
        meta["lastUpdated"] = instant(now)
        stored = _with_server_references(resource, local)
        values = {"version_id": version, "last_updated": now, "content_hash": digest_,
                  "resource": stored}
        if key in plan.written:  # written by an earlier Bundle of this submission, changed here
            plan.written[key].update(values)
            plan.index = [r for r in plan.index if (r["type"], r["id"]) != key]
            plan.dates = [r for r in plan.dates if (r["type"], r["id"]) != key]
        elif old is None:
            plan.written[key] = {"type": key[0], "id": key[1], **values}
            plan.created.append(plan.written[key])
        else:
            plan.written[key] = values
            plan.replaced.append((key, old.version_id, values))
        plan.history.append({"type": key[0], "id": key[1], "version_id": version, "last_updated": now,
                             "submission_id": None, "resource": stored})
        plan.index.extend(index_rows(stored))
        plan.dates.extend(date_rows(stored))


def _write(store: Store, conn: Connection, sub: Submission, plan: _Plan, outcome: Json | None,
           now: datetime) -> Stored:
    # The answer goes in with the submission's row: it is known before the row is written (the
    # plan), and an UPDATE afterwards wrote the row twice (on PostgreSQL a second tuple, its
    # 14 KB answer TOASTed again). No "outcome": null when every row converted (_find reads a
    # missing one as None): a null would send the whole result through the stdlib's slower
    # writer (jsonout).
    result = {"reports": plan.bundles, **({"outcome": outcome} if outcome is not None else {})}
    ((sub_id,),) = driver.rows(conn, store.statements[INSERT], {
        "sha256": sub.sha256, "idempotency_key": sub.idempotency_key, "format": sub.format,
        "content_type": sub.content_type, "client": sub.client, "received": now, "body": sub.body,
        "result": result,
    })
    for (rtype, rid), version, values in plan.replaced:
        # optimistic: only the version we read is replaced; a concurrent writer makes the
        # history insert below collide and this transaction retry
        conn.execute(update(resources).where(
            (resources.c.type == rtype) & (resources.c.id == rid) & (resources.c.version_id == version)
        ).values(**values))
        for table in (search_index, search_dates):
            conn.execute(table.delete().where((table.c.type == rtype) & (table.c.id == rid)))
    for row in plan.history:
        row["submission_id"] = sub_id
    # new rows go in one multi-row INSERT per table (a statement per resource was most of the time)
    for table, rows in ((resources, plan.created), (resource_history, plan.history),
                        (search_index, plan.index), (search_dates, plan.dates)):
        if rows:
            driver.insert_rows(conn, store.statements, table, rows)
    return Stored(plan.bundles, outcome, created=True)


def _with_server_references(resource: Json, local: dict[str, str]) -> Json:
    """A copy of the resource whose `reference`s to Bundle entries (`urn:uuid:`) are `Type/id`.

    Through its JSON text (orjson, several times faster than walking the tree in Python): in JSON
    text every quote inside a string is escaped, so `"reference":"<url>"` can only be a
    `reference` member whose whole value is that url. What orjson does not round-trip exactly
    (a null it would write for NaN, integers beyond 64 bits) takes the walk instead."""
    try:
        text = orjson.dumps(resource)
    except TypeError:
        return _walked(resource, local)
    if b"null" in text:
        return _walked(resource, local)
    for url, ref in local.items():
        if not (_plain(url) and _plain(ref)):  # text JSON would escape: not ours, but kept exact
            return _walked(resource, local)
        text = text.replace(b'"reference":"' + url.encode() + b'"',
                            b'"reference":"' + ref.encode() + b'"')
    return orjson.loads(text)


def _plain(text: str) -> bool:
    """Written as itself inside a JSON string."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _walked(resource: Json, local: dict[str, str]) -> Json:
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items()}
            ref = out.get("reference")
            if isinstance(ref, str) and ref in local:
                out["reference"] = local[ref]
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(resource)
