"""Reading what was stored: current version, one version, history, search (plain dicts out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Text, and_, bindparam, func, not_, or_, select, type_coerce

from .. import jsonout
from . import driver
from .engine import Store
from .schema import resource_history, resources, search_dates, search_index

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Version:
    resource: Json
    version_id: int
    last_updated: datetime


@dataclass(frozen=True, slots=True)
class JsonVersion:
    """A current version as the JSON text it is served as (no parse, no re-serialisation)."""

    json: bytes
    version_id: int
    last_updated: datetime


@dataclass(frozen=True, slots=True)
class Criterion:
    """One search parameter: the resource matches when ANY of `values` (system, value) matches;
    system None = any system."""

    param: str
    values: list[tuple[str | None, str]]


@dataclass(frozen=True, slots=True)
class DateCriterion:
    """One date search parameter: the resource matches when ANY of `values` (prefix, low, high)
    matches one of its dates; [low, high) is the search value's range at its precision (UTC)."""

    param: str
    values: list[tuple[str, datetime, datetime]]


# FHIR's date prefixes as comparisons of the target range [tl, th) with the search range [sl, sh)
# (R4 search.html#prefix): eq = the search range contains the target's; gt/lt = the range above /
# below the search value overlaps the target's; sa/eb = the target lies wholly after / before.
def date_match(prefix: str, tl: Any, th: Any, sl: datetime, sh: datetime) -> ColumnElement[bool]:
    eq = and_(tl >= sl, th <= sh)
    return {"eq": eq, "ne": not_(eq), "gt": th > sh, "lt": tl < sl, "ge": or_(th > sh, eq),
            "le": or_(tl < sl, eq), "sa": tl >= sh, "eb": th <= sl}[prefix]


PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")


@dataclass(frozen=True, slots=True)
class Page:
    resources: list[Json]
    total: int


def _version(resource: Json, version_id: int, last_updated: datetime) -> Version:
    if last_updated.tzinfo is None:  # SQLite hands back naive datetimes (stored as UTC)
        last_updated = last_updated.replace(tzinfo=UTC)
    return Version(resource, version_id, last_updated.astimezone(UTC))  # PostgreSQL: session zone



# Built once (a read by id is the commonest request): bound by name at each call
_CURRENT = (resources.c.type == bindparam("type")) & (resources.c.id == bindparam("id"))
READ = select(resources.c.resource, resources.c.version_id, resources.c.last_updated).where(_CURRENT)
# the column as stored, not decoded: on SQLite the text jsonout wrote, which is what a response
# serialises the resource to (compact, same key order, same bytes)
READ_TEXT = select(type_coerce(resources.c.resource, Text), resources.c.version_id,
                   resources.c.last_updated).where(_CURRENT)


def read(store: Store, rtype: str, rid: str) -> Version | None:
    row = driver.first(store.engine, store.statements[READ], {"type": rtype, "id": rid})
    return _version(*row) if row else None


def read_text(store: Store, rtype: str, rid: str) -> JsonVersion | None:
    """The current version's JSON bytes, as a compact response carries them. PostgreSQL keeps
    JSONB, whose text form is spaced: there it is decoded and written again."""
    if store.engine.dialect.name != "sqlite":
        v = read(store, rtype, rid)
        return JsonVersion(jsonout.dumps_bytes(v.resource), v.version_id, v.last_updated) if v else None
    row = driver.first(store.engine, store.statements[READ_TEXT], {"type": rtype, "id": rid})
    if row is None:
        return None
    text: str = row[0]
    v = _version({}, row[1], row[2])
    if not _as_served(text):
        text = jsonout.dumps(orjson.loads(text))
    return JsonVersion(text.encode(), v.version_id, v.last_updated)


def _as_served(text: str) -> bool:
    """Whether stored text is already the served form: written by jsonout (compact, UTF-8), not
    by a serialiser of earlier releases (spaced separators, \\u escapes)."""
    colon = text.find('":', 0, 300)
    return colon > 0 and text[colon + 2:colon + 3] != " " and "\\u" not in text


def vread(store: Store, rtype: str, rid: str, version_id: int) -> Version | None:
    h = resource_history.c
    with store.reading() as conn:
        row = conn.execute(select(h.resource, h.version_id, h.last_updated).where(
            h.type == rtype, h.id == rid, h.version_id == version_id)).first()
    return _version(*row) if row else None


def history(store: Store, rtype: str, rid: str) -> list[Version]:
    """Every version, newest first."""
    h = resource_history.c
    with store.reading() as conn:
        rows = conn.execute(select(h.resource, h.version_id, h.last_updated).where(
            h.type == rtype, h.id == rid).order_by(h.version_id.desc())).all()
    return [_version(*r) for r in rows]


def search(store: Store, rtype: str, criteria: list[Criterion | DateCriterion], count: int,
           offset: int) -> Page:
    """Resources of `rtype` matching every criterion, ordered by id (stable across pages)."""
    r, s, d = resources.c, search_index.c, search_dates.c
    # Each criterion as `id IN (the ids its index rows name)`: SQLite then starts from the index
    # rows that match and looks the resources up by key. A correlated EXISTS made it visit every
    # resource of the type (a search grew with the store); PostgreSQL plans both as a semi-join.
    conds = [r.type == rtype]
    for crit in criteria:
        if isinstance(crit, DateCriterion):
            dates = [date_match(prefix, d.low, d.high, low, high) for prefix, low, high in crit.values]
            conds.append(r.id.in_(select(d.id).where(d.type == rtype, d.param == crit.param,
                                                     or_(*dates))))
            continue
        alternatives = [and_(s.value == value, *([s.system == system] if system is not None else []))
                        for system, value in crit.values]
        conds.append(r.id.in_(select(s.id).where(s.type == rtype, s.param == crit.param,
                                                 or_(*alternatives))))
    with store.reading() as conn:
        total = conn.execute(select(func.count()).select_from(resources).where(*conds)).scalar_one()
        rows = conn.execute(select(r.resource).where(*conds).order_by(r.id)
                            .limit(count).offset(offset)).scalars().all() if count else []
    return Page(list(rows), total)


def read_many(store: Store, keys: list[tuple[str, str]]) -> list[Json]:
    """Current versions of (type, id) pairs that exist, in the order asked (for _include)."""
    if not keys:
        return []
    r = resources.c
    with store.reading() as conn:
        rows = conn.execute(select(r.type, r.id, r.resource).where(
            or_(*[and_(r.type == t, r.id == i) for t, i in keys]))).all()
    found = {(row.type, row.id): row.resource for row in rows}
    return [found[k] for k in dict.fromkeys(keys) if k in found]
