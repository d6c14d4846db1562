"""Search parameters of the REST API: what each type can be searched by, parsing, and the
searchset Bundle with `self` / `next` links that round-trip (same parameters, next offset).

`_elements` keeps the named elements of each match, and the mandatory ones (FHIR: servers
SHOULD return them whether asked or not), and tags it SUBSETTED; included resources are whole.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from ..errors import RequestError
from ..store.index import date_range
from ..store.reads import PREFIXES, Criterion, DateCriterion, Page

Json = dict[str, Any]

# name -> FHIR search parameter type; each is backed by store/index.py
PARAMS: dict[str, dict[str, str]] = {
    "DiagnosticReport": {"identifier": "token", "status": "token", "code": "token",
                         "subject": "reference", "specimen": "reference", "based-on": "reference",
                         "date": "date", "_lastUpdated": "date"},
    "Observation": {"identifier": "token", "status": "token", "code": "token",
                    "value-concept": "token", "subject": "reference", "specimen": "reference",
                    "based-on": "reference", "derived-from": "reference", "date": "date",
                    "_lastUpdated": "date"},
}
# the audit log's search parameters (api/audit.py: an admin scope reads it); `agent` is the
# client's name (AuditEvent.agent.who.display), matched exactly
AUDIT_PARAMS = {"date": "date", "agent": "token", "entity": "reference", "action": "token"}
CONTROL = {"_count", "_offset", "_format", "_pretty", "_include", "_summary", "_elements"}
# the elements R4 makes mandatory (min 1) on each type we serve, kept by `_elements`
MANDATORY = {"DiagnosticReport": ("status", "code"), "Observation": ("status", "code"),
             "Task": ("status", "intent"), "ResearchStudy": ("status",), "Device": (),
             "MedicationStatement": ("status", "medication[x]", "subject"),
             "AuditEvent": ("type", "recorded", "agent", "source")}
SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
             "code": "SUBSETTED", "display": "subsetted"}
ELEMENT = re.compile(r"[a-z][A-Za-z]*$")
# the data types a choice element [x] can take in R4 (the open type list), as they end its name
CHOICE_TYPES = frozenset(
    "Base64Binary Boolean Canonical Code Date DateTime Decimal Id Instant Integer Markdown Oid "
    "PositiveInt String Time UnsignedInt Uri Url Uuid Address Age Annotation Attachment "
    "CodeableConcept Coding ContactPoint Count Distance Duration HumanName Identifier Money "
    "Period Quantity Range Ratio Reference SampledData Signature Timing ContactDetail "
    "Contributor DataRequirement Expression ParameterDefinition RelatedArtifact "
    "TriggerDefinition UsageContext Dosage Meta".split())
INCLUDES = {"DiagnosticReport": {"DiagnosticReport:result": ("result", "Observation")}}
DEFAULT_COUNT, MAX_COUNT = 20, 100


def _int(args: MultiDict, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    # isascii: str.isdigit() is also true of '²', which int() refuses (a 500, found by schemathesis)
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise RequestError("malformed", f"{name} must be a whole number from {low} to {high}",
                           code="value")
    return int(raw)


def includes(rtype: str, args: MultiDict) -> list[tuple[str, str]]:
    """(element, target type) of each `_include` asked for."""
    out = []
    for value in args.getlist("_include"):
        if value not in INCLUDES.get(rtype, {}):
            raise RequestError("malformed", f"_include '{value}' is not supported; supported: "
                               f"{', '.join(INCLUDES.get(rtype, {})) or 'none'}", code="not-supported")
        out.append(INCLUDES[rtype][value])
    return out


def included_keys(page: Page, wanted: list[tuple[str, str]]) -> list[tuple[str, str]]:
    keys = []
    for element, target in wanted:
        for resource in page.resources:
            for ref in resource.get(element, []):
                kind, _, rid = ref.get("reference", "").partition("/")
                if kind == target and rid:
                    keys.append((kind, rid))
    return keys


def parse(rtype: str, args: MultiDict) -> tuple[list[Criterion | DateCriterion], int, int]:
    known = AUDIT_PARAMS if rtype == "AuditEvent" else PARAMS[rtype]
    criteria: list[Criterion | DateCriterion] = []
    for name, values in args.lists():
        if name in CONTROL:
            continue
        base, _, modifier = name.partition(":")
        # references are indexed by identifier too (store/index.py), audit entities are not
        identifiers = known[base] == "reference" and rtype != "AuditEvent" if base in known else False
        if base not in known or (modifier and (modifier != "identifier" or not identifiers)):
            raise RequestError("malformed", f"unknown search parameter '{name}' for {rtype}; known: "
                               f"{', '.join(sorted(known))} (references also with :identifier)",
                               code="not-supported")
        for value in values:
            if not [v for v in value.split(",") if v]:
                raise RequestError("malformed", f"search parameter '{name}' has no value", code="value")
            if known[base] == "date":
                criteria.append(DateCriterion(name, [_date(name, v) for v in value.split(",") if v]))
            else:
                criteria.append(Criterion(name, [_value(known[base], modifier, v)
                                                 for v in value.split(",") if v]))
    summary = args.get("_summary")
    if summary not in (None, "count"):
        raise RequestError("malformed", f"_summary '{summary}' is not supported; supported: count",
                           code="not-supported")
    count = 0 if summary == "count" else _int(args, "_count", DEFAULT_COUNT, 0, MAX_COUNT)
    return criteria, count, _int(args, "_offset", 0, 0, 10**9)


def _date(name: str, raw: str) -> tuple[str, Any, Any]:
    prefix = raw[:2] if raw[:2].isalpha() else "eq"
    span = date_range(raw[2:] if raw[:2].isalpha() else raw)
    if prefix not in PREFIXES or span is None:
        raise RequestError("malformed", f"{name} '{raw}' is not a date with an optional prefix "
                           f"({', '.join(PREFIXES)}), e.g. ge2026-11-25 or lt2026-11-25T10:00:00Z",
                           code="value")
    return prefix, *span


def elements(args: MultiDict) -> tuple[str, ...] | None:
    """The element names `_elements` asks for (None: the whole resources)."""
    raw = args.get("_elements")
    if raw is None:
        return None
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    wrong = [n for n in names if not ELEMENT.match(n)]
    if not names or wrong:
        raise RequestError("malformed", f"_elements '{raw}' is not a list of element names "
                           "(e.g. _elements=status,code,subject)", code="value")
    return names


def subset(resource: Json, names: tuple[str, ...]) -> Json:
    """The resource with only the named and the mandatory elements, tagged SUBSETTED; a choice
    element is named without its type (`effective` keeps effectiveDateTime)."""
    keep = {*names, *(m.removesuffix("[x]") for m in MANDATORY.get(resource["resourceType"], ()))}
    out = {k: v for k, v in resource.items()
           if k in ("resourceType", "id", "meta") or _named(k, keep)}
    meta = dict(out.get("meta") or {})
    meta["tag"] = [*(meta.get("tag") or []), SUBSETTED]
    out["meta"] = meta
    return {k: out[k] for k in ("resourceType", "id", "meta") if k in out} | out


def _named(key: str, keep: set[str]) -> bool:
    # a choice element is its name + a data type ('effectiveDateTime'); 'statusReason' is no
    # choice of 'status'
    return key in keep or any(key.startswith(n) and key[len(n):] in CHOICE_TYPES for n in keep)


def _value(kind: str, modifier: str, raw: str) -> tuple[str | None, str]:
    if kind == "token" or modifier == "identifier":
        if "|" in raw:
            system, _, code = raw.partition("|")
            return system, code
        return None, raw
    return "", raw  # a literal reference 'Type/id', as stored


def searchset(base: str, rtype: str, args: MultiDict, page: Page, count: int, offset: int,
              included: list[Json] | None = None) -> Json:
    kept = [(k, v) for k, v in args.items(multi=True) if k not in ("_count", "_offset")]

    def link(at: int) -> str:
        return f"{base}/{rtype}?" + urlencode([*kept, ("_count", count), ("_offset", at)])

    links = [{"relation": "self", "url": link(offset)}]
    if count and offset + count < page.total:
        links.append({"relation": "next", "url": link(offset + count)})
    if count and offset > 0:
        links.append({"relation": "previous", "url": link(max(offset - count, 0))})
    names = elements(args)
    entries = [{"fullUrl": f"{base}/{rtype}/{r['id']}", "resource": subset(r, names) if names else r,
                "search": {"mode": "match"}} for r in page.resources]
    entries += [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                 "search": {"mode": "include"}} for r in included or []]
    bundle: Json = {"resourceType": "Bundle", "type": "searchset", "total": page.total, "link": links}
    if entries:
        bundle["entry"] = entries
    return bundle
