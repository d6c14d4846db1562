"""Which VEP CSQ entry a variant is reported from, and what happens to variants whose annotation
names no HGNC gene (service/allfhir/ingest/vcf.py chooses, service/allfhir/resolve.py lists them)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pytest

from allfhir import ingest
from allfhir.cli import main
from allfhir.knowledge import Knowledge
from allfhir.model import Sample
from allfhir.resolve import resolve

from .conftest import DATA

CLONE = DATA / "vcf" / "vep-clone-gene.vcf"
V76 = DATA / "vcf" / "vep76.vcf"


def only_sample(path: Path) -> Sample:
    [sample] = list(ingest.read(path, "vcf"))
    assert isinstance(sample, Sample)
    return sample


def test_csq_entry_naming_an_hgnc_gene_is_preferred_over_flags_on_a_clone_gene() -> None:
    variants = only_sample(CLONE).variants
    assert [(v.gene, v.hgvs_c, v.hgvs_p, v.source.row if v.source else None) for v in variants] == [
        # line 9: the lncRNA AL161781.2 is CANONICAL too, but PAX5 names an HGNC gene (PICK, MANE)
        ("PAX5", "ENST00000358127.9:c.239C>G", "ENSP00000350844.4:p.Pro80Arg", 9),
        # line 10: the only annotation is a clone-named gene; kept for resolve to list
        ("AC135721.2", "ENST00000440000.1:n.250-30A>G", None, 10),
        # line 11: no flags: the first protein-coding transcript of an HGNC gene, not the first entry
        ("IKZF1", "ENST00000331340.8:c.475A>T", "ENSP00000331614.3:p.Asn159Tyr", 11),
    ]


def test_clone_gene_variant_is_listed_in_the_comments_and_the_sample_converts(kb: Knowledge) -> None:
    resolved = resolve(only_sample(CLONE), kb)
    assert [v.gene for v in resolved.sample.variants] == ["PAX5", "IKZF1"]
    assert resolved.sample.comments[-1] == (
        "VEP variant ENST00000440000.1:n.250-30A>G (vep-clone-gene.vcf, line 10) not reported: "
        "'AC135721.2' is not an HGNC gene symbol")


def test_clone_gene_vcf_converts_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "--no-actionability", str(CLONE)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    [bundle] = [json.loads(line) for line in out.splitlines()]
    [report] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"]
    assert escape("VEP variant ENST00000440000.1:n.250-30A>G (vep-clone-gene.vcf, line 10) not reported: "
                  "'AC135721.2' is not an HGNC gene symbol") in report["text"]["div"]


def test_vep76_layout_reports_the_annotated_transcript_with_its_hgvs() -> None:
    # VEP v76 without --canonical / --pick: the first entry is an upstream_gene_variant of FIGNL1.
    [variant] = only_sample(V76).variants
    assert (variant.gene, variant.transcript, variant.hgvs_c, variant.hgvs_p, variant.assembly) == (
        "IKZF1", "ENST00000331340", "ENST00000331340.3:c.475A>T", "ENSP00000331614.3:p.Asn159Tyr",
        "GRCh37")
    assert variant.consequences == ["missense_variant"]


def test_hgvs_of_the_chosen_transcript_from_its_other_entries(tmp_path: Path) -> None:
    # Some VEP runs (--per_gene plugins, merged caches) write one transcript twice: one entry with
    # the c. and another with the p.; the report keeps both.
    lines = V76.read_text().splitlines()
    fields = lines[5].split("Format: ")[1].rstrip('">').split("|")
    entry = dict.fromkeys(fields, "")
    entry.update(Allele="T", Gene="ENSG00000185811", Feature="ENST00000331340", Feature_type="Transcript",
                 Consequence="missense_variant", SYMBOL="IKZF1", SYMBOL_SOURCE="HGNC",
                 BIOTYPE="protein_coding")
    first = {**entry, "HGVSc": "ENST00000331340.3:c.475A>T"}
    second = {**entry, "HGVSp": "ENSP00000331614.3:p.Asn159Tyr"}
    cells = lines[-1].split("\t")
    cells[7] = "CSQ=" + ",".join("|".join(e[f] for f in fields) for e in (first, second))
    path = tmp_path / "split.vcf"
    path.write_text("\n".join([*lines[:-1], "\t".join(cells)]) + "\n")
    [variant] = only_sample(path).variants
    assert (variant.hgvs_c, variant.hgvs_p) == ("ENST00000331340.3:c.475A>T", "ENSP00000331614.3:p.Asn159Tyr")


def test_leaked_log_line_before_the_vcf_is_skipped_and_named(tmp_path: Path) -> None:
    # `snpEff ann ... > out.vcf 2>&1`: the JVM's notice lands in front of the VCF.
    text = (DATA / "vcf" / "snpeff.vcf").read_text()
    leaked = tmp_path / "annotated.vcf"
    leaked.write_text("Picked up _JAVA_OPTIONS: -Xmx8g\n" + text)
    assert ingest.detect_format(leaked) == "vcf"
    [sample] = list(ingest.read(leaked))
    plain = only_sample(DATA / "vcf" / "snpeff.vcf")
    assert [(v.gene, v.hgvs_c, v.source.row if v.source else None) for v in sample.variants] == [
        (v.gene, v.hgvs_c, v.source.row + 1 if v.source and v.source.row else None) for v in plain.variants]
    assert sample.comments[0] == ("line 1 of annotated.vcf skipped, not part of the VCF: "
                                  "'Picked up _JAVA_OPTIONS: -Xmx8g'")


def test_vcf_without_fileformat_line_is_known_by_its_chrom_header(tmp_path: Path) -> None:
    lines = (DATA / "vcf" / "snpeff.vcf").read_text().splitlines(keepends=True)
    bare = tmp_path / "annotated.vcf"
    bare.write_text("".join(lines[1:]))
    assert ingest.detect_format(bare) == "vcf"
    [sample] = list(ingest.read(bare))
    plain = only_sample(DATA / "vcf" / "snpeff.vcf")
    assert [v.hgvs_c for v in sample.variants] == [v.hgvs_c for v in plain.variants]
    assert sample.comments[0] == ("annotated.vcf has no ##fileformat line; read as VCF 4.x by its "
                                  "#CHROM header")


SV = DATA / "vcf" / "vep-sv.vcf"


def test_symbolic_deletions_duplications_and_cnvs_become_copy_number_changes() -> None:
    sample = only_sample(SV)
    assert sample.variants == []
    assert [(c.change, c.gene, c.chromosome, c.start, c.end, c.copy_number, c.assembly,
             c.source.row if c.source else None) for c in sample.copy_numbers] == [
        ("deletion", "IKZF1", "chr7", 50304069, 50367352, None, "GRCh38", 16),
        # no END: POS + |SVLEN|; one change per annotated gene
        ("deletion", "CDKN2A", "chr9", 21967753, 22007962, None, "GRCh38", 17),
        ("deletion", "CDKN2B", "chr9", 21967753, 22007962, None, "GRCh38", 17),
        ("gain", "PAX5", "chr9", 36966545, 37010000, None, "GRCh38", 18),
        ("loss", "ERG", "chr21", 38380028, 38423562, 1.0, "GRCh38", 19),
    ]
    # the BND pair (lines 20, 21) is a fusion, BCR::ABL1 (tests/test_vcf_breakends.py)
    assert [(f.gene5, f.gene3, f.breakpoint5, f.breakpoint3) for f in sample.fusions] == [
        ("BCR", "ABL1", "chr22:23290555:+", "chr9:130714000:+")]
    assert sample.comments == []


def test_symbolic_alt_without_its_extent_says_why(tmp_path: Path) -> None:
    lines = SV.read_text().splitlines()
    cells = lines[15].split("\t")
    cells[7] = cells[7].replace("END=50367352;", "").replace("SVLEN=-63284;", "")
    cells[4] = "<DEL:ME:ALU>"
    inv = lines[17].split("\t")
    inv[4] = "<INV>"
    path = tmp_path / "sv.vcf"
    path.write_text("\n".join([*lines[:15], "\t".join(cells), "\t".join(inv)]) + "\n")
    sample = only_sample(path)
    assert sample.copy_numbers == []
    assert sample.comments == [
        "1 ALT allele(s) not converted (line(s) 16): <DEL> without a numeric END or SVLEN",
        "1 ALT allele(s) not converted (line(s) 17): symbolic <INV>: only <DEL>, <DUP> and <CNV> "
        "are modelled"]


def test_copy_number_changes_convert_to_variant_observations_with_their_region(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "--no-actionability", str(SV)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    [bundle] = [json.loads(line) for line in out.splitlines()]
    # the copy-number Observations carry their region (the BCR::ABL1 breakend pair is a fusion)
    notes = [o["note"][0]["text"] for o in (e["resource"] for e in bundle["entry"])
             if o["resourceType"] == "Observation" and "note" in o]
    assert notes[0] == "called by VEP (VCF BND)"
    assert notes[1:-1] == [
        "region chr7:50304069-50367352 (GRCh38, 1-based); annotated by VEP",
        "region chr9:21967753-22007962 (GRCh38, 1-based); annotated by VEP",
        "region chr9:21967753-22007962 (GRCh38, 1-based); annotated by VEP",
        "region chr9:36966545-37010000 (GRCh38, 1-based); annotated by VEP",
        "region chr21:38380028-38423562 (GRCh38, 1-based); annotated by VEP",
    ]


@pytest.mark.parametrize(("name", "expected"), [
    ("vatools-input.vcf", [("USP18", "ENST00000215794.7:c.371C>T", "ENSP00000215794.7:p.Ala124Val", 82)]),
    # both entries CANONICAL; the one whose SYMBOL_SOURCE is HGNC is reported, not the clone name
    ("vatools-multiple_transcripts.vcf", [("GRAMD4P2", "ENST00000423297.1:n.909T>C", None, 84)]),
])
def test_real_vep_files(name: str, expected: list[tuple[object, ...]]) -> None:
    sample = only_sample(DATA / "vcf" / name)
    assert sample.sample_id == "H_NJ-HCC1395-HCC1395"
    assert [(v.gene, v.hgvs_c, v.hgvs_p, v.source.row if v.source else None)
            for v in sample.variants] == expected
    assert sample.comments == []


def test_real_snpeff_output_with_a_leaked_log_line_and_no_fileformat() -> None:
    path = DATA / "vcf" / "snpeff-cancer.ann.vcf"
    assert ingest.detect_format(path) == "vcf"
    germline, somatic = list(ingest.read(path))
    assert isinstance(germline, Sample) and isinstance(somatic, Sample)
    assert [(s.sample_id, [(v.gene, v.hgvs_c, v.hgvs_p, v.alt) for v in s.variants])
            for s in (germline, somatic)] == [
        ("Patient_01_Germline", [("OR4F5", "ENST00000335137:c.1A>C", "p.Met1?", "C")]),
        ("Patient_01_Somatic", [("OR4F5", "ENST00000335137:c.1A>C", "p.Met1?", "C"),
                                ("OR4F5", "ENST00000335137:c.1A>G", "p.Met1?", "G")]),
    ]
    assert germline.comments == [
        "line 1 of snpeff-cancer.ann.vcf skipped, not part of the VCF: '00:00:39.673 Reading cancer "
        "samples pedigree from file 'examples/samples_cancer_'",
        "snpeff-cancer.ann.vcf has no ##fileformat line; read as VCF 4.x by its #CHROM header"]
