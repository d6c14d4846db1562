"""VCF breakend (BND) pairs become gene fusions, the 5'/3' order from the ALT bracket orientation
(VCF 4.3 section 5.4) and each gene's transcription strand (VEP CSQ STRAND); undecidable pairs are
listed with their file, lines and reason (service/allfhir/ingest/_breakend.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from allfhir import ingest
from allfhir.convert import convert
from allfhir.errors import InputError
from allfhir.ingest._breakend import sides
from allfhir.model import Fusion, Sample
from allfhir.validation.issues import errors
from allfhir.validation.validator import Validator

from .conftest import DATA
from .fhir_asserts import (
    Json,
    assert_internal_refs_resolve,
    by_profile,
    components,
    fusion_variants,
    parse_r4b,
    resources,
)

BND = DATA / "vcf" / "vep-bnd.vcf"
PAIRS = DATA / "vcf" / "vep-bnd-pairs.vcf"
SNPEFF = DATA / "vcf" / "snpeff-bnd.vcf"


def only_sample(path: Path) -> Sample:
    [sample] = list(ingest.read(path, "vcf"))
    assert isinstance(sample, Sample)
    return sample


def row(f: Fusion) -> tuple[object, ...]:
    assert f.source is not None
    return (f.gene5, f.gene3, f.breakpoint5, f.breakpoint3, f.caller, f.reading_frame,
            f.junction_reads, f.spanning_reads, f.source.file, f.source.row, f.source.column)


def rewritten(tmp_path: Path, path: Path, edit: dict[int, tuple[str, str]] | None = None,
              order: list[int] | None = None) -> Path:
    """A copy of a fixture with text replaced on given (1-based) lines and/or records reordered."""
    lines = path.read_text().splitlines(keepends=True)
    for number, (old, new) in (edit or {}).items():
        assert old in lines[number - 1]
        lines[number - 1] = lines[number - 1].replace(old, new)
    if order:
        lines = [lines[i - 1] for i in range(1, min(order))] + [lines[i - 1] for i in order]
    out = tmp_path / path.name
    out.write_text("".join(lines))
    return out


@pytest.mark.parametrize(("alt", "expected"), [
    # VCF 4.3 section 5.4: (mate chrom, mate pos, side kept here, side kept at the mate)
    ("G[chr9:130714000[", ("chr9", 130714000, "left", "right")),  # t[p[
    ("G]chr9:130714000]", ("chr9", 130714000, "left", "left")),  # t]p]
    ("]chr22:23290555]C", ("chr22", 23290555, "right", "left")),  # ]p]t
    ("[chr22:23290555[C", ("chr22", 23290555, "right", "right")),  # [p[t
    ("A[<ctg1>:7[", ("<ctg1>", 7, "left", "right")),
    (".A", None), ("G.", None), ("G[chr9:1]", None), ("[chr9:1[", None),
])
def test_breakend_alt_sides(alt: str, expected: object) -> None:
    assert sides(alt) == expected


def test_bcr_abl1_pair_is_bcr_abl1_with_the_abl1_mate_first() -> None:
    # line 10: chr9 ]chr22:23290555]C (ABL1, STRAND 1); line 11: chr22 G[chr9:130714000[ (BCR, 1)
    sample = only_sample(BND)
    assert sample.sample_id == "SJBALL043684"
    assert [row(f) for f in sample.fusions] == [
        ("BCR", "ABL1", "chr22:23290555:+", "chr9:130714000:+", "VEP (VCF BND)", None, None, None,
         str(BND), 10, "ALT")]
    assert sample.comments == [] and sample.variants == [] and sample.copy_numbers == []


def test_bcr_abl1_pair_is_bcr_abl1_with_the_bcr_mate_first(tmp_path: Path) -> None:
    # the same junction, the records in the other order: the source is the first mate (BCR)
    path = rewritten(tmp_path, BND, order=[11, 10])
    [fusion] = only_sample(path).fusions
    assert row(fusion) == ("BCR", "ABL1", "chr22:23290555:+", "chr9:130714000:+", "VEP (VCF BND)",
                           None, None, None, str(path), 10, "ALT")


def test_bcr_abl1_mates_joined_by_positions_without_mateid(tmp_path: Path) -> None:
    path = rewritten(tmp_path, BND, {10: (";MATEID=MantaBND:7:0", ""), 11: (";MATEID=MantaBND:7:1", "")})
    assert [(f.gene5, f.gene3) for f in only_sample(path).fusions] == [("BCR", "ABL1")]


def test_the_reciprocal_junction_is_abl1_bcr(tmp_path: Path) -> None:
    # der(9): chr9 left of the break joined to chr22 right of it; ABL1's 5' part, BCR's 3' part
    path = rewritten(tmp_path, BND, {10: ("]chr22:23290555]C", "C[chr22:23290555["),
                                     11: ("G[chr9:130714000[", "]chr9:130714000]G")})
    [fusion] = only_sample(path).fusions
    assert (fusion.gene5, fusion.gene3, fusion.breakpoint5, fusion.breakpoint3) == (
        "ABL1", "BCR", "chr9:130714000:+", "chr22:23290555:+")


def test_fusions_for_every_bracket_form_and_strand_combination() -> None:
    sample = only_sample(PAIRS)
    assert [(*row(f)[:4], row(f)[9]) for f in sample.fusions] == [
        # minus :: plus, [p[t on both mates (lines 10 and 17, joined by their positions, no ID)
        ("TCF3", "PBX1", "chr19:1615300:-", "chr1:164790000:+", 10),
        # plus :: minus, t]p] on both mates (lines 14 and 20)
        ("EP300", "ZNF384", "chr22:41170000:+", "chr12:6680000:-", 14),
        # minus :: minus, ]p]t (ETV6, line 15) and t[p[ (RUNX1, line 18): the reverse of BCR::ABL1's
        # brackets, and still the 5' gene first
        ("ETV6", "RUNX1", "chr12:11905000:-", "chr21:35000000:-", 15),
    ]
    assert {f.caller for f in sample.fusions} == {"VEP (VCF BND)"}
    assert sample.comments == [
        "VCF breakend(s) at vep-bnd-pairs.vcf lines 11, 12 not converted to a fusion: both breakends "
        "lie in IKZF1: a rearrangement within one gene, not a fusion of two genes",
        "VCF breakend(s) at vep-bnd-pairs.vcf lines 13, 16 not converted to a fusion: the breakend at "
        "chr18:25000000 lies in no annotated gene (intergenic): a gene fusion needs a gene on both sides",
        "VCF breakend(s) at vep-bnd-pairs.vcf line 19 not converted to a fusion: its mate breakend "
        "MantaBND:16:1 is not among the records kept (FILTER PASS or '.'): one breakend cannot say "
        "which genes are joined",
    ]


def test_strands_swapped_swap_the_partners(tmp_path: Path) -> None:
    # The order follows the strands, not the file: with both genes on the other strand the same
    # brackets join ABL1's 5' part to BCR's 3' part.
    path = rewritten(tmp_path, BND, {10: ("|||||1|", "|||||-1|"), 11: ("|||||1|", "|||||-1|")})
    [fusion] = only_sample(path).fusions
    assert (fusion.gene5, fusion.gene3, fusion.breakpoint5, fusion.breakpoint3) == (
        "ABL1", "BCR", "chr9:130714000:-", "chr22:23290555:-")


def test_head_to_head_junction_is_not_a_fusion(tmp_path: Path) -> None:
    path = rewritten(tmp_path, BND, {10: ("]chr22:23290555]C", "C]chr22:23290555]"),
                                     11: ("G[chr9:130714000[", "G]chr9:130714000]")})
    sample = only_sample(path)
    assert sample.fusions == []
    assert sample.comments == [
        "VCF breakend(s) at vep-bnd.vcf lines 10, 11 not converted to a fusion: the junction joins the "
        "5' parts of ABL1 and BCR: no fusion transcript reads through it"]


def test_mates_that_disagree_are_not_a_fusion(tmp_path: Path) -> None:
    path = rewritten(tmp_path, BND, {11: ("G[chr9:130714000[", "G]chr9:130714000]")})
    assert only_sample(path).comments == [
        "VCF breakend(s) at vep-bnd.vcf lines 10, 11 not converted to a fusion: the two mates' ALTs "
        "describe different junctions (positions or bracket orientation disagree)"]


def test_vep_without_strand_cannot_order_the_partners(tmp_path: Path) -> None:
    path = rewritten(tmp_path, BND, {10: ("|||||1|", "||||||"), 11: ("|||||1|", "||||||")})
    sample = only_sample(path)
    assert sample.fusions == []
    assert sample.comments == [
        "VCF breakend(s) at vep-bnd.vcf lines 10, 11 not converted to a fusion: the annotation gives no "
        "transcription strand for ABL1 and BCR (VEP writes none; VEP's CSQ STRAND does), so which "
        "gene's 5' part is joined to which gene's 3' part cannot be decided"]


def test_snpeff_gives_no_strand_so_the_order_is_not_guessed() -> None:
    sample = only_sample(SNPEFF)
    assert sample.fusions == []
    assert sample.comments == [
        "VCF breakend(s) at snpeff-bnd.vcf lines 9, 10 not converted to a fusion: the annotation gives no "
        "transcription strand for ABL1 and BCR (SnpEff writes none; VEP's CSQ STRAND does), so which "
        "gene's 5' part is joined to which gene's 3' part cannot be decided"]


def test_filtered_mate_leaves_the_other_listed(tmp_path: Path) -> None:
    path = rewritten(tmp_path, BND, {11: ("\tPASS\t", "\tLowQ\t")})
    assert only_sample(path).comments == [
        "1 VCF record(s) with FILTER 'LowQ' skipped (only PASS and '.' are kept)",
        "VCF breakend(s) at vep-bnd.vcf line 10 not converted to a fusion: its mate breakend "
        "MantaBND:7:0 is not among the records kept (FILTER PASS or '.'): one breakend cannot say "
        "which genes are joined"]


def test_single_breakend_is_listed(tmp_path: Path) -> None:
    path = rewritten(tmp_path, BND, {10: ("]chr22:23290555]C", "C."), 11: ("G[chr9:130714000[", ".G")})
    assert only_sample(path).comments == [
        "1 ALT allele(s) not converted (line(s) 10): breakend ALT 'C.' names no mate position (a single "
        "breakend, VCF 4.3 section 5.4.9): no partner gene to join",
        "1 ALT allele(s) not converted (line(s) 11): breakend ALT '.G' names no mate position (a single "
        "breakend, VCF 4.3 section 5.4.9): no partner gene to join"]


def test_genotype_without_the_breakend_gets_no_fusion(tmp_path: Path) -> None:
    path = rewritten(tmp_path, BND, {10: ("\tGT\t0/1", "\tGT\t0/0")})
    assert only_sample(path).fusions == []


# ------------------------------------------------------------------------------- whole pipeline

IG = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition"
LOINC = "http://loinc.org"
ALLSORTS_PH = DATA / "classifiers" / "allsorts-predictions.csv"  # SJBALL043684: 'Ph'


def sjball043684(paths: list[Path]) -> Json:
    items = list(convert(paths))
    assert not [i for i in items if isinstance(i, InputError)]
    [bundle] = [b for b in items if isinstance(b, dict)
                and resources(b, "DiagnosticReport")[0]["identifier"][0]["value"] == "allsorts:SJBALL043684"]
    parse_r4b(bundle)
    assert_internal_refs_resolve(bundle)
    return bundle


def agents(bundle: Json) -> list[str]:
    return sorted(components(obs, LOINC, "51963-7")[0]["valueCodeableConcept"]["text"]
                  for obs in by_profile(bundle, f"{IG}/therapeutic-implication"))


def test_bcr_abl1_from_vcf_breakends_confirms_an_allsorts_ph_call(profile_validator: Validator) -> None:
    # without the VCF the Ph call is unconfirmed: a follow-up to confirm BCR::ABL1, no TKI
    alone = sjball043684([ALLSORTS_PH])
    assert agents(alone) == []
    [followup] = by_profile(alone, f"{IG}/followup-recommendation")
    assert followup["code"]["text"] == "Confirm: BCR::ABL1 by RT-PCR or FISH (or an RNA-seq fusion call)"
    # with the breakend VCF of the same sample the fusion confirms it: TKIs, no follow-up
    bundle = sjball043684([ALLSORTS_PH, BND])
    [fusion] = fusion_variants(bundle)
    assert [c["valueCodeableConcept"]["coding"][0]["display"]
            for c in components(fusion, LOINC, "48018-6")] == ["BCR", "ABL1"]
    assert agents(bundle) == ["dasatinib", "imatinib", "ponatinib"]
    assert by_profile(bundle, f"{IG}/followup-recommendation") == []
    assert len(by_profile(bundle, f"{IG}/medication-recommendation")) == 3
    report = resources(bundle, "DiagnosticReport")[0]
    assert "driver BCR::ABL1 by VEP (VCF BND)" in report["conclusion"]
    assert "Call basis: driver-confirmed" in report["conclusion"]
    assert report["conclusion"].endswith(
        "Standard of care: imatinib (level A), dasatinib (level A), ponatinib (level A).")
    assert [i.text() for i in errors(profile_validator.validate(bundle))] == []
