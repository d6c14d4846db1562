"""What a resource is found by: the search-index rows of the parameters the API searches on.

Parameter names are the FHIR R4 search parameter names; a reference is indexed twice, as its
literal `Type/id` under the name (`subject`) and as its logical identifier under
`<name>:identifier`, because our reports often know a patient only by identifier.
"""

from __future__ import annotations

from typing import Any

from .. import codes

Json = dict[str, Any]

# FHIR search parameter -> the element it reads, per resource type
REFERENCES = {
    "DiagnosticReport": {"subject": "subject", "specimen": "specimen", "based-on": "basedOn"},
    "Observation": {"subject": "subject", "specimen": "specimen", "based-on": "basedOn",
                    "derived-from": "derivedFrom"},
}
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


def _component_rows(resource: Json) -> set[tuple[str, str, str]]:
    found = set()
    for comp in resource.get("component", []):
        param = next((COMPONENTS[c["code"]] for c in comp.get("code", {}).get("coding", [])
                      if c.get("system") == codes.LOINC and c.get("code") in COMPONENTS), None)
        for coding in (comp.get("valueCodeableConcept") or {}).get("coding", []) if param else []:
            if coding.get("code"):
                found.add((param, coding.get("system", ""), coding["code"]))
    return found
