"""What a resource is found by: the search-index rows of the parameters the API searches on.

Parameter names are the FHIR R4 search parameter names; a reference is indexed twice, as its
literal `Type/id` under the name (`subject`) and as its logical identifier under
`<name>:identifier`, because our reports often know a patient only by identifier.

A date is indexed as the range its precision spans ('2026-11' is all of November), which is how
FHIR compares dates: `date=2026-11` matches a report of 2026-11-25, `date=2026-11-25` does not
match one dated only '2026-11'. A date or time without a zone is read as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import codes

Json = dict[str, Any]

# FHIR search parameter -> the element it reads, per resource type
REFERENCES = {
    "DiagnosticReport": {"subject": "subject", "specimen": "specimen", "based-on": "basedOn"},
    "Observation": {"subject": "subject", "specimen": "specimen", "based-on": "basedOn",
                    "derived-from": "derivedFrom"},
}
# date search parameter -> the choice element it reads (effective[x]: dateTime, Period, instant)
DATES = {"DiagnosticReport": {"date": "effective"}, "Observation": {"date": "effective"}}
# FHIR date, dateTime and instant at any precision; search values may stop at the minute
DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
                  r"(Z|[+-]\d{2}:\d{2})?)?)?)?$")
# What the Genomics Reporting IG's population operations count by (allfhir.genomics): component
# codes of an Observation -> the index parameter holding the codings of their values.
COMPONENTS = {
    codes.LOINC_CODING_HGVS: "genomics-variant", codes.LOINC_PROTEIN_HGVS: "genomics-variant",
    codes.LOINC_GENOMIC_HGVS: "genomics-variant",
    codes.LOINC_PREDICTED_PHENOTYPE: "genomics-condition",
    codes.LOINC_MEDICATION_ASSESSED: "genomics-treatment",
    codes.LOINC_GENOMIC_SOURCE_CLASS: "genomics-source-class",
}
TOKENS = {"DiagnosticReport": {"code": "code"}, "Observation": {"code": "code",
                                                               "value-concept": "valueCodeableConcept"}}


def index_rows(resource: Json) -> list[dict[str, str]]:
    rtype, rid = resource["resourceType"], resource["id"]
    found: set[tuple[str, str, str]] = set()
    for ident in resource.get("identifier", []):
        if ident.get("value"):
            found.add(("identifier", ident.get("system", ""), ident["value"]))
    if isinstance(resource.get("status"), str):
        found.add(("status", "", resource["status"]))
    for param, element in REFERENCES.get(rtype, {}).items():
        value = resource.get(element)
        for ref in value if isinstance(value, list) else [value] if value else []:
            if ref.get("reference"):
                found.add((param, "", ref["reference"]))
            ident = ref.get("identifier") or {}
            if ident.get("value"):
                found.add((f"{param}:identifier", ident.get("system", ""), ident["value"]))
    for param, element in TOKENS.get(rtype, {}).items():
        for coding in (resource.get(element) or {}).get("coding", []):
            if coding.get("code"):
                found.add((param, coding.get("system", ""), coding["code"]))
    if rtype == "Observation":
        found |= _component_rows(resource)
    return [{"type": rtype, "id": rid, "param": p, "system": s[:255], "value": v[:255]}
            for p, s, v in sorted(found)]


def date_range(text: str) -> tuple[datetime, datetime] | None:
    """[low, high) in UTC of a FHIR date/dateTime/instant at its precision; None if it is none."""
    m = DATE.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        tz = UTC if zone in (None, "Z") else datetime.strptime(zone, "%z").tzinfo
        low = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                       int(second or 0), int((fraction or "0")[:6].ljust(6, "0")), tzinfo=tz)
        if month is None:
            high = low.replace(year=low.year + 1)
        elif day is None:
            high = low.replace(year=low.year + low.month // 12, month=low.month % 12 + 1)
        elif hour is None:
            high = low + timedelta(days=1)
        elif second is None:
            high = low + timedelta(minutes=1)
        elif fraction is None:
            high = low + timedelta(seconds=1)
        else:  # the digits given, down to the microseconds the database keeps
            high = low + timedelta(microseconds=10 ** max(6 - len(fraction), 0))
    except (ValueError, OverflowError):  # 2026-02-30, 25:00, the end of year 9999 ...
        return None
    return low.astimezone(UTC), high.astimezone(UTC)


def date_rows(resource: Json) -> list[dict[str, Any]]:
    """The search_dates rows of a resource: its `date` parameters and `_lastUpdated`."""
    rtype, rid = resource["resourceType"], resource["id"]
    found: set[tuple[str, datetime, datetime]] = set()

    def add(param: str, text: Any) -> None:
        span = date_range(text) if isinstance(text, str) else None
        if span:
            found.add((param, *span))

    for param, element in DATES.get(rtype, {}).items():
        for kind in ("DateTime", "Instant"):
            add(param, resource.get(f"{element}{kind}"))
        period = resource.get(f"{element}Period") or {}
        start, end = date_range(period.get("start", "")), date_range(period.get("end", ""))
        if start or end:  # an open end is open: it reaches the earliest / latest time there is
            found.add((param, start[0] if start else datetime.min.replace(tzinfo=UTC),
                       end[1] if end else datetime.max.replace(tzinfo=UTC)))
    add("_lastUpdated", (resource.get("meta") or {}).get("lastUpdated"))
    return [{"type": rtype, "id": rid, "param": p, "low": low, "high": high}
            for p, low, high in sorted(found)]
def _component_rows(resource: Json) -> set[tuple[str, str, str]]:
    found = set()
    for comp in resource.get("component", []):
        param = next((COMPONENTS[c["code"]] for c in comp.get("code", {}).get("coding", [])
                      if c.get("system") == codes.LOINC and c.get("code") in COMPONENTS), None)
        for coding in (comp.get("valueCodeableConcept") or {}).get("coding", []) if param else []:
            if coding.get("code"):
                found.add((param, coding.get("system", ""), coding["code"]))
    return found
