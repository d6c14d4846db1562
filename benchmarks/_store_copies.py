"""A store of many copies of a few converted reports, built fast but row for row as the write path
stores them (for genomics_ops.py).

Storing each copy through `submissions.save` costs the pipeline's per-resource work (server
references, content hash, index rows) every time: about an hour for 100,000 samples on a busy
2-core machine. The copies differ from their template only in ids and subject, so here each
template is stored once through `submissions.save` (into a scratch database), its rows are read
back, and every copy's rows are those rows with the ids and the subject substituted; they go in
with the store's own tables and transactions, thousands of copies a transaction. The content
hash is computed for every copy, over the copy itself. `check` stores one copy through
`submissions.save` into another scratch database and asserts that it wrote exactly the rows the
bulk path wrote for that copy (all but the time of the write).

A copy as `copy_of` makes it: the template with `Patient/TEMPLATE` replaced by `Patient/p<i>` and
each resource id by a name-based UUID of (i, id).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert, select

import _tree  # noqa: F401  (the source tree measured, before allfhir is imported)
from allfhir import jsonout
from allfhir.store import Store, submissions, upgrade
from allfhir.store.schema import resource_history, resources, search_dates, search_index
from allfhir.store.schema import submissions as submissions_table

Json = dict[str, Any]
SUBJECT = "Patient/TEMPLATE"
# what copy_of replaces: a resource id (a UUID) or the subject
_SPLIT = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|"
                    + re.escape(SUBJECT) + ")")
ROW_TABLES = (resources, resource_history, search_index, search_dates)


def ids_of(template: Json) -> list[str]:
    return [e["resource"]["id"] for e in template["entry"]]


def names(ids: list[str], i: int) -> dict[str, str]:
    """Template text -> copy i's text, for each string copy_of replaces."""
    return {SUBJECT: f"Patient/p{i}",
            **{rid: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{i}/{rid}")) for rid in ids}}


def copy_of(template: str, ids: list[str], i: int) -> Json:
    text = template
    for old, new in names(ids, i).items():
        text = text.replace(old, new)
    return json.loads(text)


def _scratch(tmp: Path, name: str) -> Store:
    url = f"sqlite:///{tmp / name}"
    upgrade(url)
    return Store(url)


def _rows_of(conn: Any, keys: list[tuple[str, str]]) -> dict[str, list[Json]]:
    """Every row of ROW_TABLES that the resources `keys` own, in a fixed order."""
    out = {}
    for table in ROW_TABLES:
        c = table.c
        rows = conn.execute(select(table).where(
            c.type.in_({t for t, _ in keys}), c.id.in_([i for _, i in keys]))
            .order_by(*table.primary_key.columns)).mappings().all()
        out[table.name] = [{str(k): v for k, v in r.items()} for r in rows]
    return out


class Text:
    """A template's string, split where copy_of replaces: filled for one copy by a join."""

    __slots__ = ("parts",)

    def __init__(self, text: str) -> None:
        self.parts = _SPLIT.split(text)  # literal, replaced, literal, ..., literal

    def __call__(self, mapping: dict[str, str]) -> str:
        if len(self.parts) == 1:
            return self.parts[0]
        parts = self.parts[:]
        parts[1::2] = [mapping.get(k, k) for k in parts[1::2]]
        return "".join(parts)


@dataclass
class Template:
    """One template's stored rows, split where the copies differ."""

    ids: list[str]
    resources: list[tuple[str, str, Text, Text]]  # type, id, stored JSON, the text hashed
    index: list[tuple[str, str, str, Text, Text]]  # type, id, param, system, value
    dates: list[tuple[str, str, str, Any, Any]]  # type, id, param, low, high (as bound)
    bundle: Text  # the Bundle save returned, as JSON

    def rows(self, i: int, now: Any, sub_id: int, out: dict[str, list[tuple]]) -> str:
        """Add copy i's rows to `out` (per table, in column order); the Bundle it returns."""
        mapping = names(self.ids, i)
        for rtype, rid, stored, hashed in self.resources:
            text, cid = stored(mapping), mapping[rid]
            out["resources"].append((rtype, cid, 1, now,
                                     hashlib.sha256(hashed(mapping).encode()).hexdigest(), text))
            out["resource_history"].append((rtype, cid, 1, now, sub_id, text))
        out["search_index"] += [(t, mapping[rid], p, system(mapping), value(mapping))
                                for t, rid, p, system, value in self.index]
        out["search_dates"] += [(t, mapping[rid], p, low, high)
                                for t, rid, p, low, high in self.dates]
        return self.bundle(mapping)


def templates_stored(tmp: Path, bundles: list[Json],
                     dialect: Any) -> tuple[list[Template], datetime]:
    """The templates stored through submissions.save, read back as Templates (times as
    `dialect` binds them), and the time they were written (every copy is written as of that
    time, as if in the same transaction)."""
    store = _scratch(tmp, "templates.db")
    sub = submissions.Submission(b"", submissions.digest("templates"), client="bench")
    returned = submissions.save(store, sub, bundles, None).reports
    bind = _binder(dialect)
    out = []
    with store.engine.connect() as conn:
        now = conn.execute(select(submissions_table.c.received)).scalar_one()
        for bundle, stored_bundle in zip(bundles, returned, strict=True):
            rows = _rows_of(conn, [(e["resource"]["resourceType"], e["resource"]["id"])
                                   for e in bundle["entry"]])
            # content_hash's own text, of the resource as the pipeline built it
            hashed = {e["resource"]["id"]: json.dumps(e["resource"], sort_keys=True,
                                                      separators=(",", ":"), ensure_ascii=False)
                      for e in bundle["entry"]}
            out.append(Template(
                ids_of(bundle),
                [(r["type"], r["id"], Text(jsonout.dumps(r["resource"])), Text(hashed[r["id"]]))
                 for r in rows["resources"]],
                [(r["type"], r["id"], r["param"], Text(r["system"]), Text(r["value"]))
                 for r in rows["search_index"]],
                [(r["type"], r["id"], r["param"], bind(r["low"]), bind(r["high"]))
                 for r in rows["search_dates"]],
                Text(jsonout.dumps(stored_bundle))))
    store.dispose()
    return out, now.replace(tzinfo=UTC)


def _binder(dialect: Any) -> Callable[[datetime], Any]:
    """A stored time (naive UTC, as SQLite returns it) as `dialect` binds a DateTime."""
    bind = resources.c.last_updated.type.bind_processor(dialect)
    return lambda v: (bind or (lambda x: x))(v.replace(tzinfo=UTC))


def _insert(conn: Any, table: Any, documents: tuple[str, ...] = ()) -> str:
    """INSERT of every column of `table` in order, as the driver takes it; JSON documents as
    their text (what the store's JSON type would write: jsonout's)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    pg = conn.dialect.name == "postgresql"
    values = [f"{mark}::jsonb" if pg and c.name in documents else mark for c in table.columns]
    return f"INSERT INTO {table.name} ({', '.join(c.name for c in table.columns)}) " \
        f"VALUES ({', '.join(values)})"


def build(store: Store, templates: list[Template], now: datetime, n: int,
          per_transaction: int = 2000) -> Iterator[int]:
    """Write copies 0..n-1 (copy i of template i % len(templates)), one submission of
    `per_transaction` copies per transaction, as submissions.save writes one; yields the number
    of resources written per transaction. The secondary indexes of the tables (schema.py's, as
    the migrations create them) are dropped first and made again at the end, from sorted data:
    a bulk load's usual order, far faster than keeping them up to date row by row."""
    bound = _binder(store.engine.dialect)(now)
    indexes = [ix for table in ROW_TABLES for ix in table.indexes]
    with store.transaction() as conn:
        for ix in indexes:
            ix.drop(conn)
    for start in range(0, n, per_transaction):
        with store.transaction(durable=False) as conn:
            if conn.dialect.name == "sqlite":  # the index pages of a large store stay in memory
                conn.exec_driver_sql("PRAGMA cache_size=-1000000")
            sub_id = conn.execute(insert(submissions_table).values(
                sha256=submissions.digest(f"bench {start}"), client="bench", received=now,
                body=b"").returning(submissions_table.c.id)).scalar_one()
            rows: dict[str, list[tuple]] = {t.name: [] for t in ROW_TABLES}
            returned = [templates[i % len(templates)].rows(i, bound, sub_id, rows)
                        for i in range(start, min(n, start + per_transaction))]
            for table in ROW_TABLES:
                conn.exec_driver_sql(_insert(conn, table, ("resource",)), rows[table.name])
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            cast = "::jsonb" if conn.dialect.name == "postgresql" else ""
            conn.exec_driver_sql(
                f"UPDATE submissions SET result = {mark}{cast} WHERE id = {mark}",
                (f'{{"reports":[{",".join(returned)}],"outcome":null}}', sub_id))
        yield len(rows["resources"])
    with store.transaction() as conn:
        for ix in indexes:
            ix.create(conn)
    if store.engine.dialect.name == "postgresql":
        # what autovacuum does after a load, now: statistics, and the visibility map without
        # which an index-only scan still reads the table (VACUUM runs outside a transaction)
        with store.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in (*ROW_TABLES, submissions_table):
                conn.exec_driver_sql(f"VACUUM ANALYZE {table.name}")


def _comparable(rows: dict[str, list[Json]], ordered: bool) -> dict[str, list[bytes]]:
    """Rows without the time of their write (the one thing a later write changes), as JSON
    text: documents compare with their key order where the database keeps one (SQLite's text;
    PostgreSQL's jsonb has none), times as naive UTC (as SQLite returns them)."""
    out: dict[str, list[bytes]] = {}
    for name, table_rows in rows.items():
        out[name] = []
        for row in table_rows:
            row = {k: v.astimezone(UTC).replace(tzinfo=None)
                   if isinstance(v, datetime) and v.tzinfo else v
                   for k, v in row.items() if k not in ("last_updated", "submission_id")}
            if "resource" in row:
                row["resource"] = {**row["resource"],
                                   "meta": {**row["resource"]["meta"], "lastUpdated": "-"}}
            if row.get("param") == "_lastUpdated":  # one millisecond: the write's instant
                assert (row["high"] - row["low"]).total_seconds() == 0.001, row
                row["low"] = row["high"] = None
            out[name].append(orjson.dumps(row, option=0 if ordered else orjson.OPT_SORT_KEYS))
    return out


def check(store: Store, tmp: Path, template: Json, i: int) -> int:
    """Assert that copy i, stored through submissions.save, has exactly the rows the bulk path
    wrote for it; the number of rows compared."""
    ids = ids_of(template)
    copy = copy_of(json.dumps(template), ids, i)
    scratch = _scratch(tmp, f"check-{i}.db")
    submissions.save(scratch, submissions.Submission(b"", submissions.digest(f"check {i}")),
                     [copy], None)
    keys = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in copy["entry"]]
    ordered = store.engine.dialect.name == "sqlite"
    with scratch.engine.connect() as conn:
        expected = _comparable(_rows_of(conn, keys), ordered)
    with store.engine.connect() as conn:
        written = _comparable(_rows_of(conn, keys), ordered)
    scratch.dispose()
    assert written == expected, f"copy {i}: the bulk rows differ from what save writes"
    return sum(len(v) for v in expected.values())
