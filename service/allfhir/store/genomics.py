"""The reads the Genomics Reporting IG operations need (allfhir.genomics): one subject's reports
and Observations in one query, and the subjects of Observations matching index criteria.

Both go through the search index (index.py): `subject` / `subject:identifier` rows name the
subject of a resource, the `genomics-*` rows what a population operation counts by. A subject is
named as its reference ('Patient/123') or, for reports that know the patient only by
identifier, as 'system|value'.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, select, tuple_

from .engine import Store
from .reads import Criterion
from .schema import resources, search_index

Json = dict[str, object]
SUBJECT_PARAMS = ("subject", "subject:identifier")


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
    with store.engine.connect() as conn:
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


def subjects(store: Store, rtype: str, criteria: list[Criterion]) -> set[str]:
    """The subjects of the resources of `rtype` matching every criterion (an empty list of
    criteria: every resource of the type)."""
    s = search_index.alias("s")
    query = select(s.c.id, s.c.param, s.c.system, s.c.value).where(
        s.c.type == rtype, s.c.param.in_(SUBJECT_PARAMS))
    if criteria:
        # the first criterion drives the query (its values through the covering value index:
        # an IN subquery, which SQLite runs first, where a join would scan the type's rows);
        # the others are checked per resource found
        first = search_index.alias("c0")
        # (`type || ''`: the type is checked, not looked up, or SQLite, having no statistics,
        # prefers the primary key's type prefix and reads every row of the type)
        query = query.where(s.c.id.in_(select(first.c.id).where(
            first.c.type.concat("") == rtype, _matches(first, criteria[0]))))
        for n, crit in enumerate(criteria[1:], 1):
            other = search_index.alias(f"c{n}")
            query = query.where(exists().where(other.c.type == s.c.type, other.c.id == s.c.id,
                                               _matches(other, crit)))
    per_resource: dict[str, str] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(query.distinct()):
            key = row.value if row.param == "subject" else f"{row.system}|{row.value}"
            # a resource naming its subject both ways counts once, by its reference
            if row.param == "subject" or row.id not in per_resource:
                per_resource[row.id] = key
    return set(per_resource.values())
