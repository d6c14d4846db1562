"""Assertions shared by the FHIR tests: R4B parsing, reference resolution, component lookup."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle

Json = dict[str, Any]


def parse_r4b(bundle: Json) -> None:
    """Every resource must parse with the fhir.resources R4B models (raises on any error)."""
    Bundle.model_validate(bundle)


def resources(bundle: Json, resource_type: str | None = None) -> list[Json]:
    return [e["resource"] for e in bundle["entry"]
            if resource_type is None or e["resource"]["resourceType"] == resource_type]


def by_profile(bundle: Json, profile: str) -> list[Json]:
    return [r for r in resources(bundle) if profile in r.get("meta", {}).get("profile", [])]


def resolve(bundle: Json, reference: Json) -> Json:
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    return urls[reference["reference"]]


def all_references(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            out.append(node["reference"])
        for value in node.values():
            out.extend(all_references(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(all_references(value))
    return out


def assert_internal_refs_resolve(bundle: Json) -> None:
    urls = {e["fullUrl"] for e in bundle["entry"]}
    dangling = [r for r in all_references(bundle) if r.startswith("urn:uuid:") and r not in urls]
    assert not dangling, f"dangling references: {dangling}"


def components(resource: Json, system: str, code: str) -> list[Json]:
    return [c for c in resource.get("component", [])
            if any(cd["system"] == system and cd["code"] == code for cd in c["code"]["coding"])]


def component_value(resource: Json, system: str, code: str) -> Any:
    found = components(resource, system, code)
    assert len(found) == 1, f"expected one {system}|{code} component, found {len(found)}"
    comp = found[0]
    for key, value in comp.items():
        if key.startswith("value"):
            return value
    raise AssertionError("component without value")


def codings(concept: Json) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept.get("coding", [])}


def fusion_variants(bundle: Json) -> list[Json]:
    """The Variant Observations of gene fusions (coding-change-type SO:0001565), not their breakpoints."""
    ig_variant = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant"
    return [v for v in by_profile(bundle, ig_variant)
            if any(("http://www.sequenceontology.org", "SO:0001565") in codings(c["valueCodeableConcept"])
                   for c in components(v, "http://loinc.org", "48019-4"))]


LAB_SYSTEMS = {"sample": "urn:oid:2.16.840.1.113883.3.9999.1", "report": "https://lims.example/report",
               "resource": "https://lims.example/resource"}
LAB_ENV = {"ALLFHIR_SAMPLE_ID_SYSTEM": LAB_SYSTEMS["sample"],
           "ALLFHIR_REPORT_ID_SYSTEM": LAB_SYSTEMS["report"],
           "ALLFHIR_RESOURCE_ID_SYSTEM": LAB_SYSTEMS["resource"]}
CLASSIFIER_SYSTEM = "https://allfhir.org/fhir/NamingSystem/classifier"


def assert_lab_systems(bundle: dict, sample_id: str) -> None:
    """Every identifier of a transaction Bundle is in the lab's systems (LAB_SYSTEMS), and so is
    every conditional create; only the classifier Device keeps the project's namespace (it names
    the software, not the lab's data)."""
    assert bundle["type"] == "transaction"
    specimen = {"identifier": {"system": LAB_SYSTEMS["sample"], "value": sample_id},
                "display": f"sample {sample_id}"}
    for entry in bundle["entry"]:
        res = entry["resource"]
        rtype = res["resourceType"]
        system = (LAB_SYSTEMS["report"] if rtype == "DiagnosticReport" else
                  CLASSIFIER_SYSTEM if rtype == "Device" else LAB_SYSTEMS["resource"])
        ident = res["identifier"][0]
        assert ident["system"] == system, (rtype, ident)
        assert entry["request"]["ifNoneExist"] == f"identifier={system}|{ident['value']}"
        if rtype == "DiagnosticReport":
            assert res["specimen"] == [specimen]
        elif rtype == "Observation":
            assert res["specimen"] == specimen
