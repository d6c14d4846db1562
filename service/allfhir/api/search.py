"""Search parameters of the REST API: what each type can be searched by, parsing, and the
searchset Bundle with `self` / `next` links that round-trip (same parameters, next offset)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from ..errors import RequestError
from ..store.reads import Criterion, Page

Json = dict[str, Any]

# name -> FHIR search parameter type; each is backed by store/index.py
PARAMS: dict[str, dict[str, str]] = {
    "DiagnosticReport": {"identifier": "token", "status": "token", "code": "token",
                         "subject": "reference", "specimen": "reference", "based-on": "reference"},
    "Observation": {"identifier": "token", "status": "token", "code": "token",
                    "value-concept": "token", "subject": "reference", "specimen": "reference",
                    "based-on": "reference", "derived-from": "reference"},
}
CONTROL = {"_count", "_offset", "_format", "_pretty", "_include", "_summary"}
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


def parse(rtype: str, args: MultiDict) -> tuple[list[Criterion], int, int]:
    known = PARAMS[rtype]
    criteria = []
    for name, values in args.lists():
        if name in CONTROL:
            continue
        base, _, modifier = name.partition(":")
        if base not in known or (modifier and (modifier != "identifier" or known[base] != "reference")):
            raise RequestError("malformed", f"unknown search parameter '{name}' for {rtype}; known: "
                               f"{', '.join(sorted(known))} (references also with :identifier)",
                               code="not-supported")
        for value in values:
            alternatives = [_value(known[base], modifier, v) for v in value.split(",") if v]
            if not alternatives:
                raise RequestError("malformed", f"search parameter '{name}' has no value", code="value")
            criteria.append(Criterion(name, alternatives))
    summary = args.get("_summary")
    if summary not in (None, "count"):
        raise RequestError("malformed", f"_summary '{summary}' is not supported; supported: count",
                           code="not-supported")
    count = 0 if summary == "count" else _int(args, "_count", DEFAULT_COUNT, 0, MAX_COUNT)
    return criteria, count, _int(args, "_offset", 0, 0, 10**9)


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
    entries = [{"fullUrl": f"{base}/{rtype}/{r['id']}", "resource": r, "search": {"mode": "match"}}
               for r in page.resources]
    entries += [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                 "search": {"mode": "include"}} for r in included or []]
    bundle: Json = {"resourceType": "Bundle", "type": "searchset", "total": page.total, "link": links}
    if entries:
        bundle["entry"] = entries
    return bundle
