"""Every supported format, through the whole pipeline: exact reports and subtype codes, and every
emitted resource parses with the fhir.resources R4B models with all bundle references resolving."""

from __future__ import annotations

from pathlib import Path

import pytest

from allfhir.convert import convert
from allfhir.errors import InputError
from allfhir.validation.issues import errors
from allfhir.validation.validator import Validator

from .conftest import DATA
from .fhir_asserts import Json, assert_internal_refs_resolve, by_profile, parse_r4b, resources

DIAGNOSTIC = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/diagnostic-implication"
SUBTYPE_CS = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"

# file -> (report identifiers, subtype codes per report) for the first four reports
EXPECTED: dict[str, tuple[list[str], list[list[str]]]] = {
    "classifiers/allcatchr-bcrabl1-predictions.tsv": (
        ["allcatchr:L1", "allcatchr:L2", "allcatchr:L3"], [["ph"], ["ph-like"], ["unclassified"]]),
    "classifiers/allcatchr-v1-predictions.tsv": (
        ["allcatchr:C1", "allcatchr:C2"], [["etv6-runx1"], ["high-hyperdiploid"]]),
    "classifiers/allsorts-comparisons.csv": (
        ["allsorts:SJBALL020917", "allsorts:SJALL050008", "allsorts:SJALL016664", "allsorts:SJBALL043684"],
        [["mef2d"], ["znf384-group"], ["tcf3-pbx1"], ["ph"]]),
    "classifiers/allsorts-parents-ball-labels.csv": (
        ["allsorts:P1", "allsorts:P2", "allsorts:P3", "allsorts:P4"],
        [["ph-group"], ["high-hyperdiploid"], ["unclassified"], ["near-haploid", "etv6-runx1-like"]]),
    "classifiers/allsorts-predictions.csv": (
        ["allsorts:SJBALL043684", "allsorts:SJALL015972", "allsorts:SJBALL014030", "allsorts:SJX1"],
        [["ph"], ["high-hyperdiploid"], ["low-hypodiploid", "ph-like"], ["unclassified"]]),
    "classifiers/mdall-df_sums.tsv": (
        ["md-all:MD1", "md-all:MD2", "md-all:MD3"], [["ph"], ["high-hyperdiploid"], ["pax5-p80r"]]),
    "classifiers/mdall-out_countMatrix_sum.tsv": (
        ["md-all:CM1", "md-all:CM2"], [["dux4", "dux4"], ["kmt2a-group", "unclassified"]]),
    "classifiers/generic-cohort.json": (["generic:S1", "allsorts:S2"], [["ph-like", "unclassified"],
                                                                       ["ph-group"]]),
    "classifiers/generic-single.json": (["findings:LAB-0042"], [["high-hyperdiploid"]]),
    # companion files alone: a findings-only report named after the file (or VCF sample column)
    # findings without a classifier: each subtype-defining driver is reported driver-only
    "fusions/arriba-fusions.tsv": (["findings:arriba-fusions"], [["etv6-runx1"]]),
    # real tool test outputs, copied unchanged (data/fusions/PROVENANCE)
    "fusions/arriba-test-fusions.tsv": (["findings:arriba-test-fusions"], [["ph"]]),
    "fusions/star-fusion.fusion_candidates.final.abridged.FFPM": (["findings:star-fusion"], [[]]),
    "fusions/final-list_candidate-fusion-genes.txt": (["findings:final-list_candidate-fusion-genes"],
                                                      [["pax5alt"]]),
    "fusions/star-fusion.fusion_predictions.abridged.coding_effect.tsv": (["findings:star-fusion"],
                                                                          [["ph"]]),
    "vcf/snpeff.vcf": (["findings:snpeff"], [["ikzf1-n159y", "pax5-p80r"]]),
    "vcf/snpeff-cancer.ann.vcf": (["findings:Patient_01_Germline", "findings:Patient_01_Somatic"], [[], []]),
    "vcf/vep-clone-gene.vcf": (["findings:PT7_D"], [["pax5-p80r", "ikzf1-n159y"]]),
    "vcf/vep-ikzf1.vcf": (["findings:PT42_D"], [["ikzf1-n159y"]]),
    "vcf/vep-ikzf1.vcf.bgz": (["findings:PT42_D"], [["ikzf1-n159y"]]),
    "vcf/vatools-input.vcf": (["findings:H_NJ-HCC1395-HCC1395"], [[]]),
    "vcf/vatools-multiple_transcripts.vcf": (["findings:H_NJ-HCC1395-HCC1395"], [[]]),
    "vcf/vep-pax5.vcf": (["findings:ALL-001", "findings:ALL-002"], [["pax5-p80r"], []]),
    "vcf/vep-sv.vcf": (["findings:PT11_D"], [["ph"]]),
    "vcf/vep-bnd.vcf": (["findings:SJBALL043684"], [["ph"]]),
    "vcf/vep-bnd-pairs.vcf": (["findings:PT31_D"], [["tcf3-pbx1", "znf384", "etv6-runx1"]]),
    "vcf/snpeff-bnd.vcf": (["findings:PT32_D"], [[]]),
    "vcf/vep76.vcf": (["findings:PT9_D"], [["ikzf1-n159y"]]),
}
COUNTS = {"classifiers/allsorts-comparisons.csv": 147}


def subtype_codes(bundle: Json) -> list[str]:
    return [coding["code"] for obs in by_profile(bundle, DIAGNOSTIC) for c in obs["component"]
            for coding in c.get("valueCodeableConcept", {}).get("coding", [])
            if coding["system"] == SUBTYPE_CS]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_format_converts_to_valid_r4_bundles(name: str) -> None:
    items = list(convert([DATA / name]))
    assert not [i.problems for i in items if isinstance(i, InputError)]
    bundles: list[Json] = [i for i in items if isinstance(i, dict)]
    ids, codes = EXPECTED[name]
    assert len(bundles) == COUNTS.get(name, len(ids))
    reports = [resources(b, "DiagnosticReport")[0] for b in bundles[:4]]
    assert [r["identifier"][0]["value"] for r in reports] == ids
    assert [subtype_codes(b) for b in bundles[:4]] == codes
    for bundle in bundles:
        parse_r4b(bundle)
        assert_internal_refs_resolve(bundle)
        report = resources(bundle, "DiagnosticReport")[0]
        # the report lists every finding and implication of its bundle
        assert len(report["result"]) == len(resources(bundle, "Observation"))
        unprofiled = ("Device", "ResearchStudy", "MedicationStatement")
        assert all(r["resourceType"] in unprofiled or r["meta"]["profile"] for r in resources(bundle))


def test_every_data_file_is_covered() -> None:
    """A fixture added for a new format must be added here too (error fixtures excluded)."""
    inputs = [p for d in ("classifiers", "fusions", "vcf") for p in (DATA / d).iterdir()]
    good = {str(p.relative_to(DATA)) for p in inputs if p.suffix != ".md" and p.name != "PROVENANCE"
            and not any(k in p.name for k in ("bad", "empty", "missing", "not-utf8", "comma", "header-only"))}
    assert good == set(EXPECTED)


def test_mixed_cohort_streams_reports_and_errors_in_order(tmp_path: Path) -> None:
    bad = tmp_path / "predictions.csv"
    bad.write_text(",Prediction\nA1,Ph\nA2,Hyperdiploid\nA3,DUX4\n")
    items = list(convert([bad], fmt="allsorts"))
    assert [type(i).__name__ for i in items] == ["dict", "InputError", "dict"]
    [problem] = items[1].problems  # type: ignore[union-attr]
    assert (problem.row, problem.column) == (3, "Prediction")
    assert problem.message.startswith("unknown ALLSorts label 'Hyperdiploid'")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_format_output_conforms_to_the_profiles(name: str, profile_validator: Validator) -> None:
    """Every bundle of every format: FHIR R4 base + Genomics Reporting IG 3.0.0 + our profiles."""
    for item in convert([DATA / name]):
        assert isinstance(item, dict)
        assert [i.text() for i in errors(profile_validator.validate(item))] == []
