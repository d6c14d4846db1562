"""A covering index of the search index by parameter and value: finding the resources of one
subject (or of one HGVS, one subtype code) reads only their rows. SQLite without statistics
otherwise answers `type = ? AND param = ? AND value = ?` from the primary key, which orders by
type first and so reads every row of the type.

And the `genomics-*` rows (store/index.py) of the Observations stored before them, so the
population operations count those too. The component map is frozen here as of this revision.

Revision ID: 0006_search_index_by_value
Revises: 0005_endpoints
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006_search_index_by_value"
down_revision = "0005_endpoints"
branch_labels = None
depends_on = None


COMPONENTS = {"48004-6": "genomics-variant", "48005-3": "genomics-variant",
              "81290-9": "genomics-variant", "81259-4": "genomics-condition",
              "51963-7": "genomics-treatment", "48002-0": "genomics-source-class"}


def _rows(rid: str, resource: dict) -> set[tuple[str, str, str, str]]:
    found = set()
    for comp in resource.get("component", []):
        param = next((COMPONENTS[c["code"]] for c in comp.get("code", {}).get("coding", [])
                      if c.get("system") == "http://loinc.org" and c.get("code") in COMPONENTS),
                     None)
        for coding in (comp.get("valueCodeableConcept") or {}).get("coding", []) if param else []:
            if coding.get("code"):
                found.add((rid, param, coding.get("system", "")[:255], coding["code"][:255]))
    return found


def upgrade() -> None:
    op.create_index("ix_search_index_value", "search_index",
                    ["param", "value", "system", "type", "id"])
    conn = op.get_bind()
    index = sa.table("search_index", *(sa.column(c) for c in ("type", "id", "param", "system",
                                                              "value")))
    conn.execute(sa.text("DELETE FROM search_index WHERE param LIKE 'genomics-%'"))
    last = ""
    while True:  # in chunks: a large store is not read into memory at once
        chunk = conn.execute(sa.text(
            "SELECT id, resource FROM resources WHERE type = 'Observation' AND id > :last "
            "ORDER BY id LIMIT 1000"), {"last": last}).all()
        rows = set()
        for rid, resource in chunk:
            rows |= _rows(rid, json.loads(resource) if isinstance(resource, str) else resource)
        if rows:
            conn.execute(index.insert(), [{"type": "Observation", "id": i, "param": p,
                                           "system": s, "value": v} for i, p, s, v in sorted(rows)])
        if len(chunk) < 1000:
            return
        last = chunk[-1][0]


def downgrade() -> None:
    op.execute("DELETE FROM search_index WHERE param LIKE 'genomics-%'")
    op.drop_index("ix_search_index_value", table_name="search_index")
