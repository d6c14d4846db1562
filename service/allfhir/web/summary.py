"""One line of a report as the list and the cohort view show it, read from its FHIR resources.

Only what the report itself says: sample, patient, subtype call(s) with probability and call
basis, classifier, date and status. Pure: resources in, a Summary out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]

SUBTYPE_PROFILE = "https://allfhir.org/fhir/StructureDefinition/bcp-all-subtype-implication"
SUBTYPE_SYSTEM = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"
PREDICTED_PHENOTYPE = "81259-4"  # LOINC, as the subtype implication's component carries it
UNCLASSIFIED = "unclassified"  # the subtype code of a sample no class was called for


@dataclass(frozen=True, slots=True)
class Call:
    code: str
    display: str
    probability: float | None
    basis: str | None


@dataclass(frozen=True, slots=True)
class Summary:
    id: str
    identifier: str
    status: str
    sample: str
    patient: str
    classifier: str
    date: str  # ISO date: effective, else issued, else when it was stored
    version: str
    calls: tuple[Call, ...]

    @property
    def unclassified(self) -> bool:
        return not self.calls or all(c.code == UNCLASSIFIED for c in self.calls)

    @property
    def call(self) -> Call | None:
        """The first call (the report's leading one)."""
        return self.calls[0] if self.calls else None


def reference_text(ref: Json | None) -> str:
    """A reference as a person reads it: `Type/id`, or `system|value`, or its display."""
    if not ref:
        return ""
    if ref.get("reference"):
        return ref["reference"]
    ident = ref.get("identifier") or {}
    if ident.get("value"):
        return f"{ident['system']}|{ident['value']}" if ident.get("system") else ident["value"]
    return ref.get("display", "")


def _component(obs: Json, code: str) -> Json | None:
    for comp in obs.get("component", []):
        if any(c.get("code") == code for c in comp.get("code", {}).get("coding", [])):
            return comp
    return None


def _call(obs: Json) -> Call | None:
    phenotype = _component(obs, PREDICTED_PHENOTYPE)
    if phenotype is None:
        return None
    coding = next((c for c in phenotype.get("valueCodeableConcept", {}).get("coding", [])
                   if c.get("system") == SUBTYPE_SYSTEM), None)
    if coding is None:
        return None
    prob = (_component(obs, "classifier-probability") or {}).get("valueQuantity", {}).get("value")
    basis = ((_component(obs, "call-basis") or {}).get("valueCodeableConcept", {})
             .get("coding") or [{}])[0].get("code")
    return Call(coding["code"], coding.get("display", coding["code"]), prob, basis)


def is_subtype_call(resource: Json) -> bool:
    return SUBTYPE_PROFILE in resource.get("meta", {}).get("profile", [])


def classifier_name(device: Json | None) -> str:
    if not device:
        return ""
    name = next((n["name"] for n in device.get("deviceName", []) if n.get("name")), "")
    version = next((v["value"] for v in device.get("version", []) if v.get("value")), "")
    return f"{name} {version}".strip()


def summarise(report: Json, results: list[Json], devices: dict[str, Json]) -> Summary:
    """`results`: the report's result Observations; `devices`: Device by the reference the
    Observations use (`Device/id` in the store, its fullUrl inside a Bundle)."""
    calls = []
    classifier = ""
    for obs in results:
        if not is_subtype_call(obs):
            continue
        call = _call(obs)
        if call:
            calls.append(call)
        classifier = classifier or classifier_name(devices.get(reference_text(obs.get("device"))))
    specimens = report.get("specimen") or [{}]
    meta = report.get("meta", {})
    when = report.get("effectiveDateTime") or report.get("issued") or meta.get("lastUpdated", "")
    return Summary(
        id=report["id"],
        identifier=next((i["value"] for i in report.get("identifier", []) if i.get("value")), ""),
        status=report.get("status", ""),
        sample=(specimens[0].get("identifier") or {}).get("value") or specimens[0].get("display", ""),
        patient=reference_text(report.get("subject")),
        classifier=classifier,
        date=when[:10],
        version=meta.get("versionId", ""),
        calls=tuple(calls),
    )
