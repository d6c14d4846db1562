"""Small shared pieces of FHIR JSON: codings, quantities, components, references, ids."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .. import codes
from ..knowledge import Coding

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}$")  # R4 id datatype
# R4 dateTime: a year, month or day, or a time to the second with its zone
DATETIME = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})"
                      r"(T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))?)?)?$")

Json = dict[str, Any]

# Name-based UUIDs: the same (report, finding) always gets the same id, so converting twice gives
# byte-identical output and re-delivery creates no duplicates at the receiving server.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, codes.ALLFHIR)
_NAMESPACE_BYTES = _NAMESPACE.bytes
# RFC 4122 variant bits (10xx) applied to the first hex digit of the fourth group.
_sha1 = hashlib.sha1
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def stable_id(*parts: str) -> str:
    """str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts))), written out: the same SHA-1 of namespace
    and name, with the version (5) and variant bits set in the hex text instead of through a UUID
    object (an id per resource makes this hot; tests/test_stable_id.py checks it against uuid5)."""
    return _name_uuid(_NAMESPACE_BYTES + "\x1f".join(parts).encode("utf-8"))


def _name_uuid(namespace_and_name: bytes) -> str:
    h = _sha1(namespace_and_name).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def id_prefix(key: bytes) -> bytes:
    """What every id of the report `key` is hashed from before its name (`name_uuid`)."""
    return _NAMESPACE_BYTES + key + b"\x1f"


def name_uuid(prefix: bytes, name: bytes) -> str:
    """The id `ReportContext.new_id` gives the name (kind and finding joined by \\x1f) in the report
    whose `id_prefix` is `prefix`."""
    return _name_uuid(prefix + name)


def coding(system: str, code: str, display: str | None = None) -> Json:
    out: Json = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(*codings: Coding | Json, text: str | None = None) -> Json:
    out: Json = {"coding": [c.as_fhir() if isinstance(c, Coding) else c for c in codings]}
    if text:
        out["text"] = text
    return out


def text_concept(text: str) -> Json:
    return {"text": text}


def loinc(code: str) -> Json:
    # No display: LOINC displays must match LOINC exactly, and the code alone is unambiguous.
    return {"coding": [coding(codes.LOINC, code)]}


def allfhir_code(code: str) -> Json:
    return {"coding": [coding(codes.CS_ALLFHIR, code, codes.ALLFHIR_CODE_DISPLAY[code])]}


def unit_quantity(value: float | int) -> Json:
    """A unitless quantity (probability, fraction, count): UCUM '1', as the IG's examples do."""
    return {"value": value, "system": codes.UCUM, "code": "1"}


def component(code: Json, **value: Any) -> Json:
    """An Observation.component: `component(loinc(...), valueString="x")`."""
    out: Json = {"code": code}
    out.update(value)
    return out


def identifier_ref(ref: str, default_system: str) -> Json:
    """'Patient/123' -> literal reference; 'system|value' -> logical (identifier) reference."""
    if "|" in ref:
        system, value = ref.split("|", 1)
        return {"identifier": {"system": system or default_system, "value": value}}
    return {"reference": ref}


def reference_problem(name: str, ref: str, rtype: str) -> str | None:
    """Why `ref` can be no reference to a `rtype` ('Type/id' or 'system|value'); None if it can.
    The CLI and the API both ask, so they refuse the same values."""
    if "|" in ref:
        return None if ref.rpartition("|")[2] else f"{name} '{ref}' has no value after '|'"
    kind, _, rid = ref.partition("/")
    if kind == rtype and FHIR_ID.match(rid):
        return None
    return f"{name} '{ref}' is neither '{rtype}/<id>' nor 'system|value'"


def effective_problem(name: str, value: str) -> str | None:
    """Why `value` is no R4 dateTime for effectiveDateTime; None if it is one."""
    m = DATETIME.match(value)
    try:
        if m:
            date(int(m[1]), int(m[2] or 1), int(m[3] or 1))  # 2026-02-30 matches the pattern
            if m[4]:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            return None
    except ValueError:
        pass
    return f"{name} '{value}' is not a FHIR dateTime (e.g. 2026-11-25 or 2026-11-25T10:00:00Z)"


def order_problem(order: str) -> str | None:
    return None if order.rpartition("|")[2] else f"order '{order}' has no identifier value"


def order_ref(order: str, default_system: str) -> Json:
    """The order a report answers, a logical reference by the ServiceRequest's identifier
    ('system|value', or a bare value in the lab's order system): the LIMS knows its order
    numbers, rarely the ServiceRequest's id on the EHR's server."""
    system, _, value = order.rpartition("|")
    return {"type": "ServiceRequest", "identifier": {"system": system or default_system, "value": value}}


@dataclass(frozen=True, slots=True)
class IdSystems:
    """The identifier systems of a report's resources. They belong to the lab (its LIMS names
    samples and reports in its own namespaces), so a deployment sets them in its settings; the
    defaults are the project's demo namespaces."""

    sample: str = codes.NS_SAMPLE_ID
    report: str = codes.NS_REPORT_ID
    resource: str = codes.NS_RESOURCE_ID
    order: str = codes.NS_ORDER_ID


@dataclass(slots=True)
class IdLog:
    """The ids a report's build gave out, with their names (fhir/templates puts them in slots)."""

    key: str = ""
    names: dict[str, str] = field(default_factory=dict)  # id -> name


@dataclass(slots=True)
class ReportContext:
    """What every resource of one report shares: its key, subject, specimen and device."""

    key: str  # report identity, e.g. "allsorts:SAMPLE_01"
    subject: Json | None
    specimen: Json | None
    device_ref: Json | None = None
    based_on: Json | None = None  # the order (ServiceRequest) the report answers
    effective: str | None = None
    # reference assembly of genomic positions the input files do not name (GRCh37 | GRCh38);
    # None: not given, and never guessed
    assembly: str | None = None
    systems: IdSystems = field(default_factory=IdSystems)
    entries: list[Json] = field(default_factory=list)
    ids: IdLog | None = None  # where the ids given out are logged (a template's build)
    # what every id of the report starts with: the namespace, the key and the separator
    _id_prefix: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._id_prefix = id_prefix(self.key.encode())
        if self.ids is not None:
            self.ids.key = self.key

    @property
    def specimen_display(self) -> str:
        return (self.specimen or {}).get("display") or "the sample"

    def new_id(self, kind: str, *finding: str) -> str:
        """stable_id(key, kind, *finding)."""
        name = "\x1f".join((kind, *finding)) if finding else kind
        uid = _name_uuid(self._id_prefix + name.encode("utf-8"))
        if self.ids is not None:
            self.ids.names[uid] = name
        return uid

    def add(self, resource: Json) -> Json:
        """Register a resource of this report; returns the Reference to it (by fullUrl)."""
        self.entries.append(resource)
        return ref_to(resource)


def ref_to(resource: Json) -> Json:
    return {"reference": f"urn:uuid:{resource['id']}"}


_OBSERVATION_CATEGORY = codes.OBSERVATION_CATEGORY
_DIAGNOSTIC_SERVICE = codes.DIAGNOSTIC_SERVICE


def observation(
    ctx: ReportContext, rid: str, profile: str, code: Json, *, genomics_category: bool = True
) -> Json:
    """The part every Observation of ours shares (profile, status, categories, subject...)."""
    # Built fresh per resource (callers may extend what they get), without the helper calls.
    category: list[Json] = [{"coding": [{"system": _OBSERVATION_CATEGORY, "code": "laboratory",
                                         "display": "Laboratory"}]}]
    if genomics_category:
        category.append({"coding": [{"system": _DIAGNOSTIC_SERVICE, "code": "GE",
                                     "display": "Genetics"}]})
    return observation_of(ctx, rid, [profile], category, code)


def observation_of(ctx: ReportContext, rid: str, profiles: list[str], category: list[Json],
                   code: Json) -> Json:
    """observation() with the profiles, categories and code given as they are (shared ones: the
    resource and its meta are its own)."""
    obs: Json = {
        "resourceType": "Observation",
        "id": rid,
        "meta": {"profile": profiles},
        # A stable business identifier lets a transaction create it conditionally (no duplicates
        # when a report is delivered twice).
        "identifier": [{"system": ctx.systems.resource, "value": rid}],
        # every finding answers the order, as the report does (searchable as based-on)
        **({"basedOn": [ctx.based_on]} if ctx.based_on else {}),
        "status": "final",
        "category": category,
        "code": code,
    }
    if ctx.subject:
        obs["subject"] = ctx.subject
    if ctx.effective:
        obs["effectiveDateTime"] = ctx.effective
    if ctx.specimen:
        obs["specimen"] = ctx.specimen
    return obs


# observation()'s categories, for observations whose categories are worked out once and shared
CATEGORIES: list[Json] = observation(ReportContext("", None, None), "", "", {})["category"]
