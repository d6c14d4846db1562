"""One subject's stored results, narrowed by the filters every subject operation has.

- `subject`: 'Patient/123' (or '123', read as Patient/123) names the subject by reference;
  'system|value' by identifier, as reports that know the patient only by identifier name it.
- `testIdentifiers`: a report (test) by its identifier ('value' or 'system|value') or its id;
  `testDateRange`: by its date (effective, else issued); `specimenIdentifiers`: by its
  specimen's identifier or reference. A result belongs to the tests whose `result` lists it, so
  an Observation is found only through a report that passes the filters.
- `genomicSourceClass`: 'somatic' / 'germline' (the LOINC answer's display, any case) or the
  answer's code; variants whose genomic-source-class (48002-0) is another are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import codes
from ..store import Store
from ..store.genomics import subject_resources
from .parameters import Inputs, Period, one

Json = dict[str, Any]


@dataclass
class Results:
    reports: list[Json]  # the subject's reports that pass the filters, by id
    observations: dict[str, Json] = field(default_factory=dict)  # 'Observation/id' -> resource
    source_class: str | None = None

    def of_profile(self, profile: str) -> list[Json]:
        return [o for o in self.observations.values()
                if profile in (o.get("meta") or {}).get("profile", [])]

    def variants(self) -> list[Json]:
        return [v for v in self.of_profile(codes.PROFILE_VARIANT) if self.of_source(v)]

    def of_source(self, obs: Json) -> bool:
        if self.source_class is None:
            return True
        wanted = self.source_class.rpartition("|")[2].casefold()
        for comp in obs.get("component", []):
            if any(c.get("code") == codes.LOINC_GENOMIC_SOURCE_CLASS
                   for c in comp["code"].get("coding", [])):
                return any(wanted in (c.get("code", "").casefold(), c.get("display", "").casefold())
                           for c in (comp.get("valueCodeableConcept") or {}).get("coding", []))
        return False

    def derived_from(self, obs: Json) -> list[Json]:
        """The stored Observations `obs` rests on (derivedFrom), in its order."""
        refs = [d.get("reference") for d in obs.get("derivedFrom", [])]
        return [self.observations[r] for r in refs if r in self.observations]


def subject_key(subject: str) -> tuple[str, str | None, str]:
    """(index parameter, system, value) naming the subject in the search index."""
    if "|" in subject:
        system, _, value = subject.partition("|")
        return "subject:identifier", system or None, value
    return "subject", None, subject if "/" in subject else f"Patient/{subject}"


def report_date(report: Json) -> str | None:
    when = report.get("effectiveDateTime") or report.get("issued") or \
        (report.get("meta") or {}).get("lastUpdated")
    return when[:10] if isinstance(when, str) else None


def test_id(report: Json) -> str:
    idents = [i for i in report.get("identifier", []) if i.get("value")]
    return idents[0]["value"] if idents else report["id"]


def specimen_id(report: Json) -> str | None:
    for ref in report.get("specimen", []):
        ident = ref.get("identifier") or {}
        if ident.get("value"):
            return ident["value"]
        if ref.get("reference"):
            return ref["reference"]
    return None


def load(store: Store, inputs: Inputs) -> Results:
    param, system, value = subject_key(one(inputs, "subject"))
    found = subject_resources(store, param, system, value)
    reports = [r for r in found if r["resourceType"] == "DiagnosticReport" and _passes(r, inputs)]
    by_ref = {f"Observation/{r['id']}": r for r in found if r["resourceType"] == "Observation"}
    observations: dict[str, Json] = {}
    for report in reports:
        for ref in report.get("result", []):
            obs = by_ref.get(ref.get("reference", ""))
            if obs is not None:
                observations.setdefault(ref["reference"], obs)
    return Results(reports, observations, one(inputs, "genomicSourceClass"))


def _passes(report: Json, inputs: Inputs) -> bool:
    tests = inputs.get("testIdentifiers")
    if tests and not any(_identifies(t, report.get("identifier", []), report["id"]) for t in tests):
        return False
    specimens = inputs.get("specimenIdentifiers")
    if specimens and not any(
            _identifies(s, [ref.get("identifier") or {}], ref.get("reference", ""))
            for s in specimens for ref in report.get("specimen", [])):
        return False
    period: Period | None = one(inputs, "testDateRange")
    if period is not None:
        when = report_date(report)
        if when is None or (period.start and when < period.start) or \
                (period.end and when > period.end):
            return False
    return True


def _identifies(token: str, identifiers: list[Json], reference: str) -> bool:
    system, bar, value = token.rpartition("|")
    if not bar and token in (reference, reference.rpartition("/")[2]):
        return True
    return any(i.get("value") == value and (not bar or i.get("system", "") == system)
               for i in identifiers)
