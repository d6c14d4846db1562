"""Annotated VCF adapter (VEP CSQ, SnpEff ANN): exact variants, samples, comments and errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from allfhir import ingest
from allfhir.errors import InputError, Problem
from allfhir.ingest import vcf
from allfhir.model import Sample, SequenceVariant

DATA = Path(__file__).resolve().parent / "data" / "vcf"
PAX5 = DATA / "vep-pax5.vcf"
IKZF1 = DATA / "vep-ikzf1.vcf"
SNPEFF = DATA / "snpeff.vcf"

CSQ_FORMAT = "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|HGVSp"
HEADER = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


def read_all(path: Path) -> list[Sample | InputError]:
    return list(ingest.read(path, "vcf"))


def samples(path: Path) -> list[Sample]:
    items = read_all(path)
    assert all(isinstance(i, Sample) for i in items), [str(i) for i in items if isinstance(i, InputError)]
    return [i for i in items if isinstance(i, Sample)]


def row_errors(path: Path) -> list[Problem]:
    return [p for i in read_all(path) if isinstance(i, InputError) for p in i.problems]


def raised(path: Path) -> list[Problem]:
    with pytest.raises(InputError) as info:
        list(ingest.read(path, "vcf"))
    return info.value.problems


def where(p: Problem) -> tuple[str | None, int | None, str | None, str]:
    return (Path(p.file).name if p.file else None, p.row, p.column, p.code)


def core(v: SequenceVariant) -> tuple[object, ...]:
    return (v.gene, v.hgvs_c, v.hgvs_p, v.hgvs_g, v.transcript, v.chromosome, v.position, v.ref, v.alt,
            v.assembly)


def counts(v: SequenceVariant) -> tuple[float | None, int | None, int | None]:
    return (v.allele_frequency, v.read_depth, v.allele_depth)


def vep(lines: list[str], tmp_path: Path, name: str = "t.vcf") -> Path:
    """A minimal VEP-annotated VCF with the given records (line 1-4 are the header)."""
    text = "\n".join([
        "##fileformat=VCFv4.2",
        "##assembly=GRCh37",
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
        f'Format: {CSQ_FORMAT}">',
        HEADER,
        *lines,
    ]) + "\n"
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_CSQ = ("C|missense_variant|MODERATE|PAX5|5079|Transcript|NM_016734.3|protein_coding|3/10||"
            "NM_016734.3:c.239C>G|NP_057953.1:p.Pro80Arg")


# --------------------------------------------------------------------------------------- sniffing


def test_sniff_and_contract() -> None:
    assert (vcf.NAME, vcf.KIND) == ("vcf", "companion")
    assert "VEP" in vcf.DESCRIPTION and "SnpEff" in vcf.DESCRIPTION
    for path in (PAX5, IKZF1, SNPEFF):
        assert ingest.detect_format(path) == "vcf"
    assert not vcf.sniff(Path("x.csv"), ",Pred,Ph\nS1,Ph,0.9\n")


# -------------------------------------------------------------------------------------------- VEP


def test_vep_pax5_two_samples() -> None:
    s1, s2 = samples(PAX5)
    assert (s1.sample_id, s2.sample_id) == ("ALL-001", "ALL-002")
    skipped = "1 VCF record(s) with FILTER 'LowQual' skipped (only PASS and '.' are kept)"
    assert s1.comments == [skipped] and s2.comments == [skipped]
    assert s1.source_files == [str(PAX5)]
    # ALL-001 carries P80R only (0/0 at the synonymous site); ALL-002 the synonymous one only.
    (p80r,) = s1.variants
    # CANONICAL=YES wins over the first (non-canonical NM_001280547.2) annotation
    assert core(p80r) == ("PAX5", "NM_016734.3:c.239C>G", "NP_057953.1:p.Pro80Arg",
                          "NC_000009.12:g.37015165G>C", "NM_016734.3", "chr9", 37015165, "G", "C", "GRCh38")
    assert counts(p80r) == (0.487, 78, 38)  # FORMAT AF, DP, AD alt
    assert p80r.consequences == ["missense_variant"]
    assert (p80r.origin, p80r.annotator) == ("somatic", "VEP")
    assert p80r.source is not None
    assert (p80r.source.file, p80r.source.row, p80r.source.column) == (str(PAX5), 13, "INFO/CSQ")
    (syn,) = s2.variants
    # percent-encoded '=' is decoded
    assert core(syn) == ("PAX5", "NM_016734.3:c.240C>T", "NP_057953.1:p.Pro80=", None, "NM_016734.3",
                         "chr9", 37015164, "G", "A", "GRCh38")
    assert counts(syn) == (0.2857, 70, 20)  # no FORMAT AF: AD alt / DP, 20/70
    assert syn.consequences == ["synonymous_variant"]
    assert syn.source is not None and syn.source.row == 14


def test_vep_ikzf1_pick_and_indel() -> None:
    (s,) = samples(IKZF1)
    assert s.sample_id == "PT42_D" and s.comments == []
    n159y, deletion = s.variants
    # no CANONICAL flag set: PICK=1 wins over the first annotation (NM_001220765.2)
    assert core(n159y) == ("IKZF1", "NM_006060.6:c.475A>T", "NP_006051.1:p.Asn159Tyr", None, "NM_006060.6",
                           "chr7", 50382593, "A", "T", "GRCh38")
    assert counts(n159y) == (0.4, 100, 40)
    assert n159y.source is not None and n159y.source.row == 9
    # VEP writes the deletion TC>T as allele '-'; FILTER '.' is kept
    assert core(deletion) == ("IKZF1", "NM_006060.6:c.1234del", "NP_006051.1:p.Leu412TrpfsTer5", None,
                              "NM_006060.6", "chr7", 50459450, "TC", "T", "GRCh38")
    assert counts(deletion) == (0.1, 100, 10)
    assert deletion.consequences == ["frameshift_variant"]


def test_gzip(tmp_path: Path) -> None:
    path = tmp_path / "pt42.vcf.gz"
    path.write_bytes(gzip.compress(IKZF1.read_bytes()))
    assert ingest.detect_format(path) == "vcf"
    (s,) = samples(path)
    assert [v.hgvs_c for v in s.variants] == ["NM_006060.6:c.475A>T", "NM_006060.6:c.1234del"]
    assert s.variants[0].source is not None and s.variants[0].source.row == 9


# ----------------------------------------------------------------------------------------- SnpEff


def test_snpeff_no_sample_columns() -> None:
    (s,) = samples(SNPEFF)
    assert s.sample_id is None
    # the multi-allelic record's second ALT (A) has no ANN entry
    assert s.comments == ["1 ALT allele(s) without an ANN annotation skipped (line(s) 9)"]
    ikzf1, pax5 = s.variants
    # bare c. is qualified with the Feature_ID; bare p. is kept (SnpEff names no protein accession)
    assert core(ikzf1) == ("IKZF1", "NM_006060.6:c.475A>T", "p.Asn159Tyr", None, "NM_006060.6", "chr7",
                           50382593, "A", "T", "GRCh38")
    assert counts(ikzf1) == (None, None, None)
    assert (ikzf1.annotator, ikzf1.consequences) == ("SnpEff", ["missense_variant"])
    assert ikzf1.source is not None
    assert (ikzf1.source.row, ikzf1.source.column) == (8, "INFO/ANN")
    assert core(pax5) == ("PAX5", "NM_016734.3:c.239C>G", "p.Pro80Arg", None, "NM_016734.3", "chr9",
                          37015165, "G", "C", "GRCh38")
    assert pax5.consequences == ["missense_variant", "splice_region_variant"]


# ----------------------------------------------------------------------------------------- errors


def test_invalid_hgvs_is_a_row_error(tmp_path: Path) -> None:
    bad = GOOD_CSQ.replace("c.239C>G", "c.239C>Q")
    path = vep([
        f"9\t37015165\t.\tG\tC\t.\tPASS\tCSQ={bad}",
        f"9\t37015165\t.\tG\tC\t.\tPASS\tCSQ={GOOD_CSQ}",
    ], tmp_path)
    items = read_all(path)
    assert isinstance(items[0], InputError) and isinstance(items[1], Sample)
    (p,) = items[0].problems
    assert where(p) == ("t.vcf", 5, "INFO/CSQ", "value")
    assert "'NM_016734.3:c.239C>Q'" in p.message
    (v,) = items[1].variants
    assert (v.hgvs_c, v.assembly, v.source.row if v.source else None) == (
        "NM_016734.3:c.239C>G", "GRCh37", 6)


def test_bad_pos_and_field_count(tmp_path: Path) -> None:
    path = vep([
        f"9\tabc\t.\tG\tC\t.\tPASS\tCSQ={GOOD_CSQ}",
        "9\t37015165\t.\tG\tC\t.\tPASS",
        f"9\t0\t.\tG\tC\t.\tPASS\tCSQ={GOOD_CSQ}",
    ], tmp_path)
    problems = row_errors(path)
    assert [where(p) for p in problems] == [
        ("t.vcf", 5, "POS", "value"), ("t.vcf", 6, None, "structure"), ("t.vcf", 7, "POS", "value")]
    assert problems[0].message == "POS 'abc' is not a positive integer"


def test_missing_chrom_header(tmp_path: Path) -> None:
    path = tmp_path / "t.vcf"
    path.write_text("##fileformat=VCFv4.2\n##assembly=GRCh38\n9\t1\t.\tG\tC\t.\tPASS\t.\n", encoding="utf-8")
    (p,) = raised(path)
    assert where(p) == ("t.vcf", 3, None, "structure")
    assert "#CHROM" in p.message


def test_no_annotation_declared(tmp_path: Path) -> None:
    path = tmp_path / "t.vcf"
    path.write_text(f"##fileformat=VCFv4.2\n{HEADER}\n9\t1\t.\tG\tC\t.\tPASS\t.\n", encoding="utf-8")
    (p,) = raised(path)
    assert where(p) == ("t.vcf", 2, None, "required")
    assert "CSQ" in p.message and "ANN" in p.message


def test_empty_and_not_utf8(tmp_path: Path) -> None:
    empty = tmp_path / "empty.vcf"
    empty.write_bytes(b"")
    (p,) = raised(empty)
    assert where(p) == ("empty.vcf", None, None, "required")
    latin = tmp_path / "latin.vcf"
    latin.write_bytes(b"##fileformat=VCFv4.2\n##comment=caf\xe9\n" + HEADER.encode() + b"\n")
    (p,) = raised(latin)
    assert where(p) == ("latin.vcf", 2, None, "invalid")
    assert "not UTF-8" in p.message


def test_not_a_vcf(tmp_path: Path) -> None:
    path = tmp_path / "t.vcf"
    path.write_text("sample,Pred\nS1,Ph\n", encoding="utf-8")
    (p,) = raised(path)
    assert where(p) == ("t.vcf", 1, None, "structure")


def test_bad_format_value_keeps_variant(tmp_path: Path) -> None:
    text = "\n".join([
        "##fileformat=VCFv4.2",
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
        f'Format: {CSQ_FORMAT}">',
        HEADER + "\tFORMAT\tS1",
        f"9\t37015165\t.\tG\tC\t.\tPASS\tCSQ={GOOD_CSQ}\tGT:AD:DP\t0/1:x,3:10",
    ]) + "\n"
    path = tmp_path / "t.vcf"
    path.write_text(text, encoding="utf-8")
    items = read_all(path)
    assert isinstance(items[0], InputError) and isinstance(items[1], Sample)
    assert [where(p) for p in items[0].problems] == [("t.vcf", 4, "S1/AD", "value")]
    (v,) = items[1].variants
    assert (v.assembly, counts(v)) == (None, (None, 10, None))


def test_multiallelic_allele_num_no_call_and_intergenic(tmp_path: Path) -> None:
    fmt = CSQ_FORMAT + "|ALLELE_NUM"
    c_ann = GOOD_CSQ + "|1"
    t_ann = ("T|missense_variant|MODERATE|PAX5|5079|Transcript|NM_016734.3|protein_coding|3/10||"
             "NM_016734.3:c.239C>A|NP_057953.1:p.Pro80His|2")
    intergenic = "A|intergenic_variant|MODIFIER||||||||||1"
    text = "\n".join([
        "##fileformat=VCFv4.2",
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
        f'Format: {fmt}">',
        HEADER + "\tFORMAT\tS1\tS2",
        f"9\t37015165\t.\tG\tC,T\t.\tPASS\tCSQ={t_ann},{c_ann}\tGT:AD:DP\t1/2:10,6,4:20\t./.:.:.",
        f"9\t100\t.\tG\tA\t.\tPASS\tCSQ={intergenic}\tGT\t0/1\t0/1",
    ]) + "\n"
    path = tmp_path / "t.vcf"
    path.write_text(text, encoding="utf-8")
    s1, s2 = samples(path)
    note = "1 ALT allele(s) whose chosen annotation names no gene (intergenic) skipped (line(s) 5)"
    assert s1.comments == [note] and s2.comments == [note]
    c, t = s1.variants
    assert (c.alt, c.hgvs_c, counts(c)) == ("C", "NM_016734.3:c.239C>G", (0.3, 20, 6))
    assert (t.alt, t.hgvs_c, counts(t)) == ("T", "NM_016734.3:c.239C>A", (0.2, 20, 4))
    assert s2.variants == []  # './.': no call, so no variant is claimed for S2


def test_annotation_values_are_decoded_and_stripped_only_where_needed() -> None:
    assert vcf._annotation_values("C|missense_variant|PAX5") == ["C", "missense_variant", "PAX5"]
    assert vcf._annotation_values("C| missense_variant |PAX5\u00a0") == ["C", "missense_variant", "PAX5"]
    assert vcf._annotation_values("A|p.Pro80%3D | x") == ["A", "p.Pro80=", "x"]
