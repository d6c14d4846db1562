"""Reading the store for a bulk export: the current versions of one type, in chunks (keyset
pagination on the id), so an export of any size holds one chunk in memory at a time.

The patient compartment here is what names a subject: the resources with a `subject` (or
`subject:identifier`) search-index row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, exists, func, select

from .engine import Store
from .genomics import SUBJECT_PARAMS
from .schema import resources, search_index

Json = dict[str, Any]


def _where(rtype: str, since: datetime | None, with_subject: bool) -> list:
    r, s = resources.c, search_index.c
    conds = [r.type == rtype]
    if since is not None:
        conds.append(r.last_updated > since)
    if with_subject:
        conds.append(exists().where(s.type == r.type, s.id == r.id, s.param.in_(SUBJECT_PARAMS)))
    return conds


def stream(store: Store, rtype: str, since: datetime | None = None, *,
           with_subject: bool = False, until: datetime | None = None,
           chunk: int = 500) -> Iterator[str]:
    """The JSON text of every current resource of `rtype` changed after `since` (and not after
    `until`, the export's transaction time, so a resource stored while the export runs waits
    for the next). As the database holds it, never decoded: an export only copies it (the
    text has no line breaks: SQLAlchemy's JSON serialiser and PostgreSQL's jsonb output write
    none)."""
    r = resources.c
    conds = _where(rtype, since, with_subject)
    if until is not None:
        conds.append(r.last_updated <= until)
    last = ""
    while True:
        with store.reading() as conn:
            rows = conn.execute(select(r.id, cast(r.resource, Text).label("text"))
                                .where(*conds, r.id > last)
                                .order_by(r.id).limit(chunk)).all()
        for row in rows:
            yield row.text
        if len(rows) < chunk:
            return
        last = rows[-1].id


def count(store: Store, rtype: str, since: datetime | None = None, *,
          with_subject: bool = False) -> int:
    with store.reading() as conn:
        return conn.execute(select(func.count()).select_from(resources)
                            .where(*_where(rtype, since, with_subject))).scalar_one()
