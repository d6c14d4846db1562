"""An Endpoint's filter: which reports go there, as a FHIR search on one resource type of the
report (`DiagnosticReport?status=final`, `Observation?value-concept=<system>|<code>`), matched
against the same index rows the store searches by (store/index.py), so the filter means what
the same search on this server would find.

A report matches when some resource of that type in its Bundle matches every parameter; a
parameter's comma-separated values are alternatives. Tokens are `system|code`, `|code` (no
system) or `code` (any system); references are matched as written (`Patient/123`), or by
identifier with `subject:identifier=system|value`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ..errors import Problem
from ..store.index import REFERENCES, TOKENS, index_rows

Json = dict[str, Any]


def parameters(rtype: str) -> set[str]:
    refs = REFERENCES.get(rtype, {})
    return {"identifier", "status", *refs, *(f"{r}:identifier" for r in refs), *TOKENS.get(rtype, {})}


@dataclass(frozen=True, slots=True)
class Criteria:
    rtype: str
    terms: tuple[tuple[str, tuple[str, ...]], ...]  # (parameter, alternative values)

    def matches(self, bundle: Json) -> bool:
        for entry in bundle.get("entry", []):
            resource = entry.get("resource") or {}
            if resource.get("resourceType") != self.rtype:
                continue
            rows = {(r["param"], r["system"], r["value"]) for r in index_rows(resource)}
            if all(any(_hit(rows, param, value) for value in values) for param, values in self.terms):
                return True
        return False


def _hit(rows: set[tuple[str, str, str]], param: str, value: str) -> bool:
    if "|" in value:
        system, _, code = value.partition("|")
        return (param, system, code) in rows
    return any(p == param and v == value for p, _, v in rows)


def parse(text: str) -> Criteria:
    """`Type?param=value&...`; a Problem (as ValueError) names what is wrong."""
    rtype, _, query = text.strip().partition("?")
    known = parameters(rtype)
    if rtype not in TOKENS:  # the types the index knows beyond identifier and status
        raise ValueError(Problem(f"filter '{text}': reports can be filtered on DiagnosticReport or "
                                 "Observation", code="value"))
    terms = []
    for name, value in parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)):
        if name not in known:
            raise ValueError(Problem(f"filter '{text}': {rtype} has no parameter '{name}' here; "
                                     f"known: {', '.join(sorted(known))}", code="value"))
        if not value:
            raise ValueError(Problem(f"filter '{text}': parameter '{name}' has no value", code="value"))
        terms.append((name, tuple(value.split(","))))
    return Criteria(rtype, tuple(terms))
