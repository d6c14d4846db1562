"""The reads the Genomics Reporting IG operations need (allfhir.genomics): one subject's reports
and Observations in one query, and the subjects of Observations matching index criteria.

Both go through the search index (index.py): `subject` / `subject:identifier` rows name the
subject of a resource, the `genomics-*` rows what a population operation counts by. A subject is
named as its reference ('Patient/123') or, for reports that know the patient only by
identifier, as 'system|value'.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Select,
    and_,
    distinct,
    exists,
    func,
    intersect,
    literal_column,
    or_,
    select,
    tuple_,
    union,
)

from .engine import Store
from .reads import Criterion
from .schema import resources, search_index

Json = dict[str, object]
SUBJECT_PARAMS = ("subject", "subject:identifier")
# `param = 'subject'` as a literal in the SQL, as schema.SUBJECT_ROWS has it: a bound parameter
# does not match a partial index's predicate
SUBJECT_ROWS_PARAM = literal_column("'subject'")


def subject_resources(store: Store, param: str, system: str | None, value: str,
                      types: tuple[str, ...] = ("DiagnosticReport", "Observation")) -> list[Json]:
    """Current versions of the resources of `types` whose subject is the one named. Driven from
    the search index's lookup index (type, param, value), so its cost is the subject's own
    resources, not the store's."""
    r, s = resources.c, search_index.c
    match = [s.type.in_(types), s.param == param, s.value == value]
    if system is not None:
        match.append(s.system == system)
    query = select(r.resource).where(r.type.in_(types), tuple_(r.type, r.id).in_(
        select(s.type, s.id).where(*match))).order_by(r.type, r.id)
    with store.reading() as conn:
        rows = conn.execute(query).scalars().all()
    return list(rows)


def _matches(table, crit: Criterion):
    """One criterion on one alias of the index: `value IN (...)` so the value index serves it,
    the systems checked beside it."""
    c = table.c
    cond = and_(c.param == crit.param, c.value.in_(sorted({v for _, v in crit.values})))
    if any(system is not None for system, _ in crit.values):
        cond = and_(cond, or_(*[and_(c.value == value, *([c.system == system] if system else []))
                                for system, value in crit.values]))
    return cond


def _pinned(crit: Criterion) -> bool:
    """One value of one system: every column of the value index before the id is fixed."""
    return len(crit.values) == 1 and bool(crit.values[0][0])


def _ids(table: Any, rtype: str, crit: Criterion) -> Select:
    """The ids of the resources of `rtype` matching one criterion, by the value index."""
    c = table.c
    if _pinned(crit):
        (system, value), = crit.values
        # param, value, system, type: the value index's range for them holds the ids in order
        return select(c.id).where(c.param == crit.param, c.value == value, c.system == system,
                                  c.type == rtype)
    # `type || ''`: the type is checked, not looked up, or SQLite, having no statistics,
    # prefers the primary key's type prefix and reads every row of the type
    return select(c.id).where(c.type.concat("") == rtype, _matches(table, crit))


def _keys(rtype: str, criteria: list[Criterion], joined: bool) -> Select:
    """The subject of each resource of `rtype` matching every criterion (an empty list: every
    resource of the type), as its key: the reference, or 'system|value' for a resource that
    names its subject only by identifier (one naming it both ways counts by its reference).
    Subjects are keyed, deduplicated and counted in the database: a population is tens of
    thousands of rows, which Python would fetch one by one."""
    if not criteria:
        # every resource of the type: the references straight from the lookup index (type,
        # param, value), then the identifiers of resources without a reference
        s, ref = search_index.alias("s"), search_index.alias("r")
        by_reference = select(s.c.value.label("key")).where(s.c.type == rtype,
                                                            s.c.param == "subject")
        by_identifier = select((s.c.system + "|" + s.c.value).label("key")).where(
            s.c.type == rtype, s.c.param == "subject:identifier", ~exists().where(
                ref.c.type == s.c.type, ref.c.id == s.c.id, ref.c.param == "subject"))
        both = union(by_reference, by_identifier).subquery()
        return select(both.c.key)
    # the resources matching every criterion: each criterion's ids from the covering value index
    # (a range of it per value), intersected in the database
    tables = [search_index.alias(f"c{n}") for n in range(len(criteria))]
    ids = [_ids(table, rtype, crit) for table, crit in zip(tables, criteria, strict=True)]
    if len(ids) == 1:
        matching = ids[0].subquery("m")
    elif joined:
        # PostgreSQL: the criteria joined on the id, which it merges from the value index's
        # ranges, each in id order when pinned (an INTERSECT hashes them all, then sorts);
        # a resource matching two values of one criterion comes twice, as keys are counted
        # DISTINCT or intersected
        first = tables[0].c.id
        matching = select(first).where(*(q.whereclause for q in ids),
                                       *(t.c.id == first for t in tables[1:])).subquery("m")
    elif all(_pinned(crit) for crit in criteria):
        # each range sorted by id: ORDER BY makes SQLite merge them (MERGE (INTERSECT)) instead
        # of filling a temporary table with one of them, several times faster
        matching = intersect(*ids).order_by("id").subquery("m")
    else:
        matching = intersect(*ids).subquery("m")

    si = search_index.alias("si")
    identifier = select(si.c.system + "|" + si.c.value).where(
        si.c.type == rtype, si.c.id == matching.c.id, si.c.param == "subject:identifier"
    ).limit(1).scalar_subquery()
    sr = search_index.alias("sr")
    subject_row = and_(sr.c.type == rtype, sr.c.id == matching.c.id, sr.c.param == SUBJECT_ROWS_PARAM)
    # the identifier only for a resource without a reference (COALESCE stops at the first
    # non-NULL); NULL for one without a subject, not filtered here, as filtering a computed
    # column makes SQLite compute it twice: count(key) and DISTINCT leave NULL out anyway
    if joined:
        # PostgreSQL: the references joined from the partial subject index (type, id, value),
        # read index-only, in one statement. Probing the primary key once per resource (tens
        # of thousands) misses the buffers at 100,000 samples: it holds every row of every
        # parameter, 1.1 GB, where the subject index is a small fraction of it
        key = func.coalesce(sr.c.value, identifier)
        return select(key.label("key")).select_from(matching.outerjoin(sr, subject_row))
    # SQLite: a look-up per resource along the primary key, which its page cache holds; a join
    # would drop the ORDER BY that makes it merge the criteria's ranges
    reference = select(sr.c.value).where(subject_row).limit(1).scalar_subquery()
    return select(func.coalesce(reference, identifier).label("key")).select_from(matching)


def _population(store: Store, rtype: str, criteria: list[Criterion],
                also: tuple[list[Criterion], ...]) -> Any:
    """The subjects' keys, with repeats (and NULL) unless `also` makes it an INTERSECT."""
    joined = store.engine.dialect.name == "postgresql"
    keys = [_keys(rtype, criteria, joined), *(_keys(rtype, more, joined) for more in also)]
    return (keys[0] if len(keys) == 1 else intersect(*keys)).subquery()


def subjects(store: Store, rtype: str, criteria: list[Criterion],
             *also: list[Criterion]) -> set[str]:
    """The subjects of the resources of `rtype` matching every criterion (an empty list of
    criteria: every resource of the type); with `also`, only those that also have resources
    matching each of those lists."""
    found = _population(store, rtype, criteria, also)
    with store.reading() as conn:
        return set(conn.execute(select(found.c.key).distinct()).scalars()) - {None}


def count(store: Store, rtype: str, criteria: list[Criterion], *also: list[Criterion]) -> int:
    """len(subjects(...)), counted in the database."""
    if not criteria and not also:
        return _count_all(store, rtype)
    found = _population(store, rtype, criteria, also)
    counted = func.count(found.c.key) if also else func.count(distinct(found.c.key))
    with store.reading() as conn:
        return conn.execute(select(counted)).scalar_one()


def _count_all(store: Store, rtype: str) -> int:
    """The subjects of every resource of `rtype`: the distinct references, counted along the
    lookup index (type, param, value) without a temporary table, plus the identifiers of the
    resources without a reference that are no reference's key."""
    s, own, other = (search_index.alias(a) for a in ("s", "own", "other"))
    references = select(func.count(distinct(s.c.value))).where(s.c.type == rtype,
                                                                s.c.param == "subject")
    key = s.c.system + "|" + s.c.value
    identifiers = select(func.count(distinct(key))).where(
        s.c.type == rtype, s.c.param == "subject:identifier",
        ~exists().where(own.c.type == s.c.type, own.c.id == s.c.id, own.c.param == "subject"),
        ~exists().where(other.c.type == rtype, other.c.param == "subject", other.c.value == key))
    with store.reading() as conn:
        return conn.execute(references).scalar_one() + conn.execute(identifiers).scalar_one()
