"""A classifier file plus its fusion / VCF files become one report per sample (the whole pipeline)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pytest

from allfhir.convert import convert
from allfhir.errors import InputError

from .conftest import DATA, SHARED, needs_shared
from .fhir_asserts import (
    Json,
    assert_internal_refs_resolve,
    by_profile,
    component_value,
    components,
    fusion_variants,
    parse_r4b,
    resources,
)

LOINC = "http://loinc.org"
HGNC = "http://www.genenames.org"
IG = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition"
EXAMPLES = SHARED / "classifier-examples"


def bundles(paths: list[Path]) -> list[Json]:
    out = []
    for item in convert(paths):
        assert not isinstance(item, InputError), item.problems
        parse_r4b(item)
        assert_internal_refs_resolve(item)
        out.append(item)
    return out


def cohort(tmp_path: Path, *samples: tuple[str, str]) -> Path:
    path = tmp_path / "calls.json"
    path.write_text(json.dumps({"samples": [
        {"sample_id": sid, "calls": [{"label": label, "probability": 0.9}]} for sid, label in samples]}))
    return path


def gene_pairs(bundle: Json) -> list[tuple[str, str]]:
    pairs = []
    for v in by_profile(bundle, f"{IG}/variant"):
        genes = [c["valueCodeableConcept"]["coding"][0]["display"] for c in components(v, LOINC, "48018-6")]
        if len(genes) == 2:
            pairs.append((genes[0], genes[1]))
    return pairs


def test_vcf_variants_join_their_classifier_samples(tmp_path: Path) -> None:
    calls = cohort(tmp_path, ("ALL-001", "pax5-p80r"), ("ALL-002", "pax5alt"))
    first, second = bundles([calls, DATA / "vcf" / "vep-pax5.vcf"])
    [p80r] = by_profile(first, f"{IG}/variant")
    assert component_value(p80r, LOINC, "48018-6")["coding"] == [
        {"system": HGNC, "code": "HGNC:8619", "display": "PAX5"}]
    assert component_value(p80r, LOINC, "48004-6")["coding"][0]["code"] == "NM_016734.3:c.239C>G"
    assert component_value(p80r, LOINC, "48005-3")["coding"][0]["code"] == "NP_057953.1:p.Pro80Arg"
    # the PAX5 P80R call rests on the variant that defines it
    [implication] = by_profile(first, f"{IG}/diagnostic-implication")
    assert {"reference": f"urn:uuid:{p80r['id']}"} in implication["derivedFrom"]
    # ALL-002 gets its own (synonymous) variant only, which defines nothing
    [synonymous] = by_profile(second, f"{IG}/variant")
    assert component_value(synonymous, LOINC, "48005-3")["coding"][0]["code"] == "NP_057953.1:p.Pro80="
    [other] = by_profile(second, f"{IG}/diagnostic-implication")
    assert {"reference": f"urn:uuid:{synonymous['id']}"} not in other["derivedFrom"]


def test_companion_sample_without_classifier_call_is_an_error(tmp_path: Path) -> None:
    calls = cohort(tmp_path, ("ALL-001", "pax5-p80r"))
    vcf = DATA / "vcf" / "vep-pax5.vcf"
    items = list(convert([calls, vcf]))
    assert isinstance(items[0], dict)
    [problem] = items[-1].problems  # type: ignore[union-attr]
    assert (problem.message, problem.file) == ("no classifier sample 'ALL-002' to attach these findings to",
                                               str(vcf))


def test_real_arriba_test_output_converts() -> None:
    # suhrig/arriba test/fusions.tsv (MIT), unchanged: one BCR::ABL1 call, read alone
    path = DATA / "fusions" / "arriba-test-fusions.tsv"
    [bundle] = bundles([path])
    report = resources(bundle, "DiagnosticReport")[0]
    assert report["identifier"][0]["value"] == "findings:arriba-test-fusions"
    assert gene_pairs(bundle) == [("BCR", "ABL1")]
    [fusion] = fusion_variants(bundle)
    assert [c["valueCodeableConcept"]["coding"] for c in components(fusion, LOINC, "48018-6")] == [
        [{"system": HGNC, "code": "HGNC:1014", "display": "BCR"}],
        [{"system": HGNC, "code": "HGNC:76", "display": "ABL1"}]]
    assert len(report["result"]) == len(resources(bundle, "Observation")) == 5
    assert "driver BCR::ABL1 by Arriba (11 split reads, 0 discordant mates)" in report["conclusion"]


def test_real_star_fusion_test_output_converts() -> None:
    # STAR-Fusion/STAR-Fusion testing/__saved/...abridged.FFPM (BSD-3), unchanged: 29 candidates,
    # 4 of them with a clone-named partner (listed in the narrative, not reported)
    path = DATA / "fusions" / "star-fusion.fusion_candidates.final.abridged.FFPM"
    [bundle] = bundles([path])
    report = resources(bundle, "DiagnosticReport")[0]
    assert report["identifier"][0]["value"] == "findings:star-fusion"
    pairs = gene_pairs(bundle)
    assert len(pairs) == len(fusion_variants(bundle)) == 25
    assert pairs[:3] == [("ACACA", "STAC2"), ("RPS6KB1", "SNF8"), ("TOB1", "SYNRG")]
    assert pairs.count(("VAPB", "IKZF3")) == 3
    assert pairs[-1] == ("PIP4K2B", "RAD51C")
    assert len(report["result"]) == len(resources(bundle, "Observation")) == 100
    html = report["text"]["div"]
    for partner, line in (("THRA::AC090627.1", 2), ("THRA::AC090627.1", 3)):
        assert escape(f"STAR-Fusion candidate {partner} ({path.name}, line {line}) not reported: "
                      "'AC090627.1' is not an HGNC gene symbol") in html


@needs_shared
@pytest.mark.parametrize(("name", "expected"), [
    ("FusionCatcher-COH000082_D1.fusioncatcher", ("P2RY8", "CRLF2")),
    ("FusionCatcher-COH000353_D1.fusioncatcher", ("MEF2D", "BCL9")),
    ("FusionCatcher-final-list_candidate-fusion-genes.txt", ("IGH", "CRLF2")),
    ("Arriba-fusions.tsv", ("BCR", "ABL1")),
])
def test_real_fusion_caller_files_convert(tmp_path: Path, name: str, expected: tuple[str, str]) -> None:
    calls = tmp_path / "one.json"
    calls.write_text(json.dumps({"sample_id": "S1", "calls": [{"label": "ph-like", "probability": 0.9}]}))
    [bundle] = bundles([calls, EXAMPLES / name])
    assert expected in gene_pairs(bundle)
    report = resources(bundle, "DiagnosticReport")[0]
    assert len(report["result"]) == len(resources(bundle, "Observation"))


@needs_shared
def test_clone_named_partners_are_listed_not_reported(tmp_path: Path) -> None:
    calls = tmp_path / "one.json"
    calls.write_text(json.dumps({"sample_id": "S1", "calls": [{"label": "ph-like", "probability": 0.9}]}))
    path = EXAMPLES / "STAR-Fusion-star-fusion.fusion_candidates.final.abridged.FFPM"
    [bundle] = bundles([calls, path])
    pairs = gene_pairs(bundle)
    assert ("THRA", "AC090627.1") not in pairs
    html = resources(bundle, "DiagnosticReport")[0]["text"]["div"]
    assert escape(f"STAR-Fusion candidate THRA::AC090627.1 ({path.name}, line 2) not reported: "
                  "'AC090627.1' is not an HGNC gene symbol") in html
