"""allfhir.validation: IG examples and allfhir's own output validate; each defect fixture gives its
exact error."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from allfhir.convert import convert
from allfhir.validation.codes import check_coding, loinc_check_digit
from allfhir.validation.issues import Issue, errors
from allfhir.validation.packages import missing_reason, packages_dir
from allfhir.validation.validator import Validator

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "validation"
needs_packages = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))

# IG example resource types validated here (the ones allfhir emits or references, plus their context).
EXAMPLE_TYPES = ("Bundle", "Observation", "DiagnosticReport", "Task", "ServiceRequest", "Specimen",
                 "Procedure", "RiskAssessment", "MedicationStatement", "Device", "Patient", "Organization",
                 "Practitioner", "DocumentReference")
# IG examples that are genuinely wrong as stand-alone resources (checked to give exactly these errors).
# IG examples that are genuinely wrong as stand-alone resources (checked to give exactly these errors).
KNOWN_BAD_EXAMPLES: dict[str, list[tuple[str, str]]] = {}


@pytest.fixture(scope="module")
def validator() -> Validator:
    if missing_reason():
        pytest.skip(str(missing_reason()))
    return Validator()


def _examples() -> list[Path]:
    root = packages_dir() / "ig" / "package" / "example"
    return sorted(p for p in root.glob("*.json") if p.name.split("-", 1)[0] in EXAMPLE_TYPES)


def _errors(v: Validator, resource: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.expression, i.message) for i in errors(v.validate(resource))]


@needs_packages
def test_there_are_ig_examples() -> None:
    assert len(_examples()) == 186


@needs_packages
@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_ig_example_validates(validator: Validator, path: Path) -> None:
    resource = json.loads(path.read_text(encoding="utf-8"))
    assert _errors(validator, resource) == KNOWN_BAD_EXAMPLES.get(path.name, [])


def _bundles(paths: list[Path]) -> list[dict[str, Any]]:
    out = list(convert(paths))
    assert all(isinstance(b, dict) for b in out), [b for b in out if not isinstance(b, dict)]
    return out  # type: ignore[return-value]


@needs_packages
def test_allsorts_and_arriba_output_validates(validator: Validator) -> None:
    ex = REPO / "examples" / "allsorts"
    bundles = _bundles([ex / "probabilities.csv", ex / "SJBALL043684.arriba.fusions.tsv"])
    assert len(bundles) == 3
    for b in bundles:
        assert _errors(validator, b) == []
        # Our SUSHI profile (differential only) gets a generated snapshot: it is known and enforced.
        assert [i.message for i in validator.validate(b) if i.code == "not-supported"] == []
    assert validator.stats.profiles_missing == set()


def _subtype_ids() -> list[str]:
    with (REPO / "mappings" / "subtypes.csv").open(encoding="utf-8") as fh:
        return [r["subtype_id"] for r in csv.DictReader(fh)]


@needs_packages
def test_synthetic_cohort_output_validates(validator: Validator, tmp_path: Path) -> None:
    subtypes = _subtype_ids()
    samples = []
    for n in range(50):
        sid = subtypes[n % len(subtypes)]
        sample: dict[str, Any] = {"sample_id": f"S{n:03d}", "calls": [{"label": sid, "probability": 0.8}]}
        if n % 3 == 0:
            sample["fusions"] = [{"gene5": "BCR", "gene3": "ABL1", "junction_reads": 12, "spanning_reads": 3,
                                  "breakpoint5": "chr22:23290555:+", "breakpoint3": "chr9:130854064:+"}]
        if n % 3 == 1:
            sample["variants"] = [{"gene": "PAX5", "hgvs_c": "NM_016734.3:c.239C>G",
                                   "hgvs_p": "NP_057953.1:p.Pro80Arg", "allele_frequency": 0.41,
                                   "read_depth": 120, "assembly": "GRCh38"}]
        samples.append(sample)
    path = tmp_path / "cohort.json"
    path.write_text(json.dumps({"samples": samples}), encoding="utf-8")
    bundles = _bundles([path])
    assert len(bundles) == 50
    found = {b["entry"][0]["resource"]["identifier"][0]["value"]: _errors(validator, b) for b in bundles}
    assert {k: v for k, v in found.items() if v} == {}


NEGATIVE = {
    "missing-component-value": [
        ("Bundle.entry[1].resource.component[0]",
         "Variant: Observation.component:gene-studied.value[x]: minimum required = 1, but only found 0")],
    "wrong-fixed-code": [
        ("Bundle.entry[1].resource.code",
         'Variant: Observation.code: value {"coding":[{"code":"81247-9","system":"http://loinc.org"}]} '
         'does not match pattern value {"coding":[{"code":"69548-6","system":"http://loinc.org"}]}')],
    "wrong-cardinality": [
        ("Bundle.entry[3].resource.component",
         "DiagnosticImplication: Observation.component:conclusion-string (slice 'conclusion-string'): "
         "max allowed = 1, but found 2")],
    "dangling-reference": [
        ("Bundle.entry[0].resource.result[0].reference",
         "reference 'urn:uuid:00000000-0000-0000-0000-000000000000' does not resolve to an entry "
         "of the bundle")],
    "code-outside-required-valueset": [
        ("Bundle.entry[0].resource.status",
         "DiagnosticReport: DiagnosticReport.status: code 'done' is not in the required ValueSet "
         "http://hl7.org/fhir/ValueSet/diagnostic-report-status|4.0.1")],
    "invalid-hgvs": [
        ("Bundle.entry[1].resource.component[1].value.coding[0].code",
         "HGVS 'NM_016734.3:c.239C>>G' does not parse: NM_016734.3:c.239C>>G: char 19: Syntax error")],
}


@needs_packages
@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_negative_fixture(validator: Validator, name: str) -> None:
    bundle = json.loads((DATA / f"bad-{name}.json").read_text(encoding="utf-8"))
    assert _errors(validator, bundle) == NEGATIVE[name]


SUBTYPE_PROFILE = "https://allfhir.org/fhir/StructureDefinition/bcp-all-subtype-implication"
SUBTYPE_VS = "https://allfhir.org/fhir/ValueSet/bcp-all-subtypes"
# The predicted-phenotype's other (exact) codings of the allsorts example (Ph), as the binding error
# lists them.
PH_OTHER_CODINGS = (
    "http://data.mskcc.org/ontologies/oncotree#BLLBCRABL1, "
    "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl#C80331, "
    "http://terminology.hl7.org/CodeSystem/icd-o-3#9812/3")


def _entry_path(bundle: dict[str, Any], resource: dict[str, Any]) -> str:
    return f"Bundle.entry[{[e['resource'] for e in bundle['entry']].index(resource)}]"


def _subtype_bundle() -> tuple[dict[str, Any], dict[str, Any]]:
    """The allsorts + arriba example bundle of SJBALL043684 and its subtype implication."""
    ex = REPO / "examples" / "allsorts"
    bundle = _bundles([ex / "probabilities.csv", ex / "SJBALL043684.arriba.fusions.tsv"])[0]
    [implication] = [e["resource"] for e in bundle["entry"]
                     if SUBTYPE_PROFILE in e["resource"].get("meta", {}).get("profile", [])]
    assert SUBTYPE_PROFILE in implication["meta"]["profile"]
    assert implication["component"][0]["valueCodeableConcept"]["coding"][0]["code"] == "ph"
    assert implication["component"][1]["code"]["coding"][0]["code"] == "classifier-probability"
    return bundle, implication


@needs_packages
def test_subtype_profile_without_subtype_coding(validator: Validator) -> None:
    bundle, implication = _subtype_bundle()
    at = _entry_path(bundle, implication)
    implication["component"][0]["valueCodeableConcept"]["coding"].pop(0)
    assert _errors(validator, bundle) == [
        (f"{at}.resource.component[0].value",
         f"BcpAllSubtypeImplication: Observation.component:predicted-phenotype.value[x]: {PH_OTHER_CODINGS} "
         f"is not in the required ValueSet {SUBTYPE_VS}"),
        (f"{at}.resource.component[0].value",
         "BcpAllSubtypeImplication: Observation.component:predicted-phenotype.value[x].coding:subtype "
         "(slice 'subtype'): minimum required = 1, but only found 0")]


@needs_packages
def test_subtype_profile_missing_required_component(validator: Validator) -> None:
    bundle, implication = _subtype_bundle()
    at = _entry_path(bundle, implication)
    implication["component"].pop(0)  # the predicted-phenotype (81259-4) component
    assert _errors(validator, bundle) == [
        (f"{at}.resource",
         "BcpAllSubtypeImplication: Observation.component:predicted-phenotype (slice 'predicted-phenotype'): "
         "minimum required = 1, but only found 0")]


@needs_packages
def test_subtype_profile_code_not_in_value_set(validator: Validator) -> None:
    bundle, implication = _subtype_bundle()
    at = _entry_path(bundle, implication)
    implication["component"][0]["valueCodeableConcept"]["coding"][0]["code"] = "no-such-subtype"
    assert _errors(validator, bundle) == [
        (f"{at}.resource.component[0].value",
         "BcpAllSubtypeImplication: Observation.component:predicted-phenotype.value[x]: "
         f"https://allfhir.org/fhir/CodeSystem/bcp-all-subtype#no-such-subtype, {PH_OTHER_CODINGS} "
         f"is not in the required ValueSet {SUBTYPE_VS}"),
        (f"{at}.resource.component[0].value.coding[0]",
         "BcpAllSubtypeImplication: Observation.component:predicted-phenotype.value[x].coding:subtype: "
         "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype#no-such-subtype is not in the required "
         f"ValueSet {SUBTYPE_VS}"),
        (f"{at}.resource.component[0].value.coding[0].code",
         "'no-such-subtype' is not a code of https://allfhir.org/fhir/CodeSystem/bcp-all-subtype "
         "(ids of mappings/subtypes.csv)")]


@needs_packages
def test_subtype_profile_probability_unit_pattern(validator: Validator) -> None:
    bundle, implication = _subtype_bundle()
    at = _entry_path(bundle, implication)
    implication["component"][1]["valueQuantity"]["code"] = "%"
    assert _errors(validator, bundle) == [
        (f"{at}.resource.component[1].value.code",
         'BcpAllSubtypeImplication: Observation.component:classifier-probability.value[x].code: '
         'value "%" does not match pattern value "1"')]


@needs_packages
def test_generated_snapshot_of_subtype_profile(validator: Validator) -> None:
    sd = validator.packages.structure_definition(SUBTYPE_PROFILE)
    assert sd is not None
    els = {e["id"]: e for e in sd["snapshot"]["element"]}
    ids = [e["id"] for e in sd["snapshot"]["element"]]
    # New slice cloned from the base's un-sliced component, placed after the IG's own slices.
    prob = "Observation.component:classifier-probability"
    assert ids.index(prob) == ids.index("Observation.component:mode-of-inheritance.referenceRange") + 1
    assert (els[prob]["sliceName"], els[prob]["min"], els[prob]["max"]) == ("classifier-probability", 0, "1")
    assert "slicing" not in els[prob]
    # value[x] restricted to Quantity, then expanded from Quantity's base definition.
    assert [t["code"] for t in els[f"{prob}.value[x]"]["type"]] == ["Quantity"]
    assert els[f"{prob}.value[x].code"]["path"] == "Observation.component.value[x].code"
    assert els[f"{prob}.value[x].code"]["patternCode"] == "1"
    assert els[f"{prob}.value[x].value"]["min"] == 1
    # Coding slice under the expanded CodeableConcept.
    sub = "Observation.component:predicted-phenotype.value[x].coding:subtype"
    assert ids[ids.index(sub) + 1:ids.index(sub) + 7] == [
        f"{sub}.{n}" for n in ("id", "extension", "system", "version", "code", "display")]
    assert els[sub]["binding"] == {"strength": "required", "valueSet": SUBTYPE_VS}
    assert els[f"{sub}.system"]["patternUri"] == "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"
    assert validator.packages.snapshot_errors == {}


def test_snapshot_merge_rules() -> None:
    from allfhir.validation.snapshot import merge

    el: dict[str, Any] = {"id": "X.a", "min": 0, "fixedCode": "a", "constraint": [{"key": "k1"}]}
    merge(el, {"id": "X.a", "min": 1, "patternCode": "b", "constraint": [{"key": "k1"}, {"key": "k2"}],
               "mustSupport": True})
    assert el == {"id": "X.a", "min": 1, "patternCode": "b", "constraint": [{"key": "k1"}, {"key": "k2"}],
                  "mustSupport": True}


def test_loinc_check_digit() -> None:
    assert loinc_check_digit("69548") == 6
    assert loinc_check_digit("51969") == 4
    assert check_coding("http://loinc.org", "69548-5") == \
        "LOINC code '69548-5' has a wrong check digit (expected 6)"
    assert check_coding("http://loinc.org", "LA6668-3") is None


def test_id_forms() -> None:
    assert check_coding("http://www.genenames.org/geneId", "HGNC:8619") is None
    assert check_coding("http://www.genenames.org/geneId", "PAX5") == \
        "HGNC id 'PAX5' is not of the form HGNC:<digits>"
    assert check_coding("http://clinicaltrials.gov", "NCT0123") == \
        "ClinicalTrials.gov id 'NCT0123' is not of the form NCT<8 digits>"
    assert check_coding("https://allfhir.org/fhir/CodeSystem/bcp-all-subtype", "ph-like") is None
    assert check_coding("https://allfhir.org/fhir/CodeSystem/bcp-all-subtype", "ph-ish") == \
        ("'ph-ish' is not a code of https://allfhir.org/fhir/CodeSystem/bcp-all-subtype "
         "(ids of mappings/subtypes.csv)")


@needs_packages
def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from allfhir.cli import main

    good = DATA / "bad-wrong-fixed-code.json"
    bad = json.loads(good.read_text(encoding="utf-8"))
    ex = REPO / "examples" / "allsorts"
    ndjson = tmp_path / "out.ndjson"
    ndjson.write_text("\n".join(json.dumps(b) for b in _bundles([ex / "probabilities.csv"])) + "\n")
    assert main(["validate", str(ndjson)]) == 0
    capsys.readouterr()
    assert main(["validate", str(good)]) == 2
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["resourceType"] == "OperationOutcome"
    [issue] = [i for i in outcome["issue"] if i["severity"] == "error"]
    assert issue["expression"] == ["Bundle.entry[1].resource.code"]
    assert issue["diagnostics"].startswith(f"{good}: Variant: Observation.code: value ")
    assert bad["resourceType"] == "Bundle"


def test_issue_outcome_shape() -> None:
    from allfhir.validation import operation_outcome

    oo = operation_outcome([Issue("m", "Bundle.entry[0]", code="value")])
    assert oo == {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "value", "diagnostics": "m", "expression": ["Bundle.entry[0]"]}]}


@needs_packages
def test_differential_profile_with_unsupported_construct_stays_unknown() -> None:
    from allfhir.validation.packages import Packages

    packages = Packages(profiles_dir=Path("/nonexistent"))
    url = "https://example.org/StructureDefinition/reslice"
    packages.sds[url] = {
        "resourceType": "StructureDefinition", "url": url, "name": "Reslice", "type": "Observation",
        "baseDefinition": "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/diagnostic-implication",
        "differential": {"element": [{"id": "Observation.component:evidence-level/extra",
                                      "path": "Observation.component", "sliceName": "evidence-level/extra"}]}}
    v = Validator(packages)
    issues = v.validate({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                         "meta": {"profile": [url]}})
    assert [i.message for i in issues if i.code == "not-supported"] == [
        f"profile {url} has no snapshot and none could be generated: "
        "re-slice Observation.component:evidence-level/extra not supported"]
    assert packages.snapshot_errors == {
        url: "re-slice Observation.component:evidence-level/extra not supported"}


@needs_packages
def test_snapshot_of_profile_on_differential_only_base() -> None:
    from allfhir.validation.packages import Packages

    packages = Packages()
    url = "https://example.org/StructureDefinition/subtype-with-probability"
    packages.sds[url] = {
        "resourceType": "StructureDefinition", "url": url, "name": "WithProbability", "type": "Observation",
        "baseDefinition": SUBTYPE_PROFILE,
        "differential": {"element": [{"id": "Observation.component:classifier-probability",
                                      "path": "Observation.component", "min": 1}]}}
    v = Validator(packages)
    bundle, implication = _subtype_bundle()
    at = _entry_path(bundle, implication)
    implication["meta"]["profile"].append(url)
    del implication["component"][1]  # the classifier-probability component
    assert _errors(v, bundle) == [
        (f"{at}.resource",
         "WithProbability: Observation.component:classifier-probability (slice 'classifier-probability'): "
         "minimum required = 1, but only found 0")]
    # The base (our SUSHI profile) got its own snapshot on the way.
    base = packages.structure_definition(SUBTYPE_PROFILE)
    assert base is not None and base["snapshot"]["element"][0]["id"] == "Observation"


@needs_packages
def test_relative_reference_outside_a_collection_is_a_warning_but_an_error_in_a_document(
        validator: Validator) -> None:
    ex = REPO / "examples" / "allsorts"
    bundle = _bundles([ex / "probabilities.csv"])[1]
    bundle["entry"][0]["resource"]["subject"] = {"reference": "Patient/p1"}
    found = [(i.severity, i.expression, i.message) for i in validator.validate(bundle)
             if i.check == "bundle"]
    assert found == [("warning", "Bundle.entry[0].resource.subject.reference",
                      "reference 'Patient/p1' is not in the bundle: the receiving server must hold it")]
    bundle["type"] = "document"
    assert ("Bundle.entry[0].resource.subject.reference",
            "reference 'Patient/p1' does not resolve to an entry of the bundle") in _errors(validator, bundle)
