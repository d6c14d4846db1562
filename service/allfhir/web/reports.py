"""Stored reports as the pages need them, through the store's read and search functions.

A report page renders a Bundle (as every stored, received or re-delivered report renders the
same way): the stored DiagnosticReport and everything it references, transitively, put back
together as a collection Bundle whose `urn:uuid:` fullUrls and references are the pipeline's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..store import Store, reads
from ..store.reads import Criterion
from .summary import Summary, summarise

Json = dict[str, Any]
LOCAL = re.compile(r"([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CHUNK = 500  # keys per read_many and reports per search page: bounded SQL statements


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _keys(refs: Iterator[str]) -> list[tuple[str, str]]:
    return [(m[1], m[2]) for ref in refs if (m := LOCAL.match(ref))]


def read_many(store: Store, keys: list[tuple[str, str]]) -> list[Json]:
    out: list[Json] = []
    for at in range(0, len(keys), CHUNK):
        out += reads.read_many(store, keys[at:at + CHUNK])
    return out


def bundle(store: Store, report: Json) -> Json:
    """The report's Bundle: the DiagnosticReport first, then what it references, in the order
    reached."""
    found: dict[tuple[str, str], Json] = {("DiagnosticReport", report["id"]): report}
    frontier = [report]
    while frontier:
        wanted = [k for k in dict.fromkeys(_keys(_refs(frontier))) if k not in found]
        frontier = read_many(store, wanted)
        for resource in frontier:
            found[(resource["resourceType"], resource["id"])] = resource
    local = {f"{t}/{i}": f"urn:uuid:{i}" for t, i in found if UUID.match(i)}

    def back(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: back(v) for k, v in node.items()}
            if isinstance(out.get("reference"), str) and out["reference"] in local:
                out["reference"] = local[out["reference"]]
            return out
        if isinstance(node, list):
            return [back(v) for v in node]
        return node

    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": local.get(f"{t}/{i}", f"{t}/{i}"), "resource": back(r)}
        for (t, i), r in found.items()]}


def summaries(store: Store, drs: list[Json]) -> list[Summary]:
    """A Summary per DiagnosticReport, in two batched reads (results, then their Devices)."""
    results = {(r["resourceType"], r["id"]): r for r in read_many(
        store, list(dict.fromkeys(k for dr in drs for k in _keys(_refs(dr.get("result", []))))))}
    device_keys = [k for r in results.values() for k in _keys(_refs(r.get("device")))]
    devices = {f"Device/{d['id']}": d for d in read_many(store, list(dict.fromkeys(device_keys)))}
    return [summarise(dr, [results[k] for k in _keys(_refs(dr.get("result", []))) if k in results],
                      devices) for dr in drs]


@dataclass(frozen=True, slots=True)
class Query:
    """The report list's search form; empty strings mean 'any'."""

    sample: str = ""
    patient: str = ""
    subtype: str = ""
    date: str = ""  # YYYY, YYYY-MM or YYYY-MM-DD: reports of that year, month or day
    status: str = ""

    def criteria(self) -> list[Criterion]:
        """What the search index answers (sample, patient, status) as store criteria."""
        out = []
        if self.sample:
            out.append(Criterion("specimen:identifier", [(None, self.sample)]))
        if self.patient:
            if LOCAL.match(self.patient):
                out.append(Criterion("subject", [("", self.patient)]))
            else:
                system, _, value = self.patient.rpartition("|")
                out.append(Criterion("subject:identifier", [(system or None, value)]))
        if self.status:
            out.append(Criterion("status", [(None, self.status)]))
        return out

    def matches(self, s: Summary) -> bool:
        """What the index does not hold (subtype, date), checked on the summary."""
        if self.subtype and not any(self.subtype in (c.code, c.display) for c in s.calls):
            return False
        return not self.date or s.date.startswith(self.date)


@dataclass(frozen=True, slots=True)
class Found:
    summaries: list[Summary]
    total: int


def search(store: Store, q: Query, count: int, offset: int) -> Found:
    criteria = q.criteria()
    if not (q.subtype or q.date):
        page = reads.search(store, "DiagnosticReport", criteria, count, offset)
        return Found(summaries(store, page.resources), page.total)
    # subtype and date are not in the search index: narrow by what is, then filter the rest
    matched = [s for s in every(store, criteria) if q.matches(s)]
    return Found(matched[offset:offset + count], len(matched))


def every(store: Store, criteria: list[Criterion] | None = None) -> list[Summary]:
    """Summaries of every stored report matching `criteria`, in the store's (id) order."""
    out: list[Summary] = []
    offset = 0
    while True:
        page = reads.search(store, "DiagnosticReport", criteria or [], CHUNK, offset)
        out += summaries(store, page.resources)
        offset += CHUNK
        if offset >= page.total:
            return out
