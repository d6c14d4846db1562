"""The integrated-call rules of mappings/entities.csv and pitfalls.csv, checked (`knowledge check`).

Every subtype names its entities and the driver each needs; every driver can be evaluated; no row
is unreachable; every pitfall names real subtypes. Returns (file, line, column, message) tuples.
"""

from __future__ import annotations

from collections.abc import Iterator

from .knowledge import Knowledge, numbered_records

Violation = tuple[str, int | None, str | None, str]
_LINEAGES = {"", "lymphoid", "multilineage"}
NO_ENTITY = "no WHO-HAEM5 or ICC 2022 entity"


def violations(kb: Knowledge) -> list[Violation]:
    return [*_entities(kb), *_pitfalls(kb)]



def _entities(kb: Knowledge) -> Iterator[Violation]:
    f = "entities.csv"
    seen: dict[str, list[tuple[str, str]]] = {}
    for i, r in numbered_records(kb.root / f):
        sid, driver, lineage = r["subtype_id"], r["driver"], r["lineage"]
        st = kb.subtypes.get(sid)
        if st is None or st.kind != "subtype":
            yield f, i, "subtype_id", f"'{sid}' is not a subtype of subtypes.csv"
            continue
        if driver == "defining":
            if not (st.defining_fusions or st.defining_genes or st.defining_variants
                    or st.defining_cytogenetics):
                yield f, i, "driver", f"'{sid}' has no defining finding in subtypes.csv"
        elif driver.startswith("alteration:"):
            if driver.split(":", 1)[1] not in kb.alterations:
                yield f, i, "driver", f"unknown alteration '{driver.split(':', 1)[1]}'"
        elif driver != "none":
            yield f, i, "driver", f"'{driver}' is not defining|alteration:<id>|none"
        if lineage not in _LINEAGES:
            yield f, i, "lineage", f"'{lineage}' is not lymphoid|multilineage"
        if not (r["who_haem5"] or r["icc_2022"]) and not (driver == "none" and NO_ENTITY in r["source"]):
            yield f, i, "who_haem5", "no entity name: name it, or say it is an expression class only"
        if not r["source"].strip():
            yield f, i, "source", "no source given"
        # Rows are tried in order: a row after one with the same driver and any lineage never wins.
        earlier = seen.setdefault(sid, [])
        if (driver, lineage) in earlier or (driver, "") in earlier:
            yield f, i, "driver", f"unreachable: an earlier row of '{sid}' with driver '{driver}' wins"
        earlier.append((driver, lineage))
    for st in kb.subtypes.values():
        if st.kind == "subtype" and st.id not in seen:
            yield f, None, "subtype_id", f"subtype '{st.id}' has no entity row"


def _pitfalls(kb: Knowledge) -> Iterator[Violation]:
    for i, r in numbered_records(kb.root / "pitfalls.csv"):
        for col in ("expression_subtype", "driver_subtype"):
            if r[col] not in kb.subtypes:
                yield "pitfalls.csv", i, col, f"unknown subtype '{r[col]}'"
        if not r["flag"].strip() or not r["source"].strip():
            yield "pitfalls.csv", i, "flag", "a pitfall needs its flag and its source"
