"""Fusion-caller adapters (Arriba, STAR-Fusion, FusionCatcher): exact fusions, sniffing and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from allfhir import ingest
from allfhir.errors import InputError, Problem
from allfhir.ingest import arriba, fusioncatcher, star_fusion
from allfhir.model import Fusion, Sample

from .conftest import REPO, SHARED, needs_shared

DATA = Path(__file__).resolve().parent / "data" / "fusions"
EXAMPLES = SHARED / "classifier-examples"

ARRIBA_EXAMPLE = REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"
ARRIBA = DATA / "arriba-fusions.tsv"
STAR = DATA / "star-fusion.fusion_predictions.abridged.coding_effect.tsv"
FUSIONCATCHER = DATA / "final-list_candidate-fusion-genes.txt"

FC_GENE5 = "Gene_1_symbol(5end_fusion_partner)"
FC_GENE3 = "Gene_2_symbol(3end_fusion_partner)"


def one_sample(path: Path, fmt: str | None = None) -> Sample:
    items = list(ingest.read(path, fmt))
    assert all(isinstance(i, Sample) for i in items), [str(i) for i in items if isinstance(i, InputError)]
    assert len(items) == 1
    sample = items[0]
    assert isinstance(sample, Sample)
    # Companion files never name their sample; the converter attaches them.
    assert sample.sample_id is None and sample.calls == [] and sample.classifier is None
    assert sample.source_files == [str(path)]
    return sample


def split(path: Path, fmt: str) -> tuple[list[Problem], list[Sample]]:
    items = list(ingest.read(path, fmt))
    problems = [p for i in items if isinstance(i, InputError) for p in i.problems]
    return problems, [i for i in items if isinstance(i, Sample)]


def raised(path: Path, fmt: str) -> list[Problem]:
    with pytest.raises(InputError) as info:
        list(ingest.read(path, fmt))
    return info.value.problems


def where(p: Problem) -> tuple[str | None, int | None, str | None, str]:
    return (Path(p.file).name if p.file else None, p.row, p.column, p.message)


def row(f: Fusion) -> tuple[object, ...]:
    return (f.gene5, f.gene3, f.breakpoint5, f.breakpoint3, f.junction_reads, f.spanning_reads,
            f.caller, f.confidence, f.reading_frame)


def src(f: Fusion) -> tuple[int | None, str | None]:
    assert f.source is not None
    return (f.source.row, f.source.column)


# ------------------------------------------------------------------------------------- metadata


def test_module_metadata() -> None:
    assert (arriba.NAME, fusioncatcher.NAME, star_fusion.NAME) == ("arriba", "fusioncatcher", "star_fusion")
    assert {arriba.KIND, fusioncatcher.KIND, star_fusion.KIND} == {"companion"}
    for module in (arriba, fusioncatcher, star_fusion):
        assert "not yet implemented" not in module.DESCRIPTION


# ---------------------------------------------------------------------------------------- Arriba


def test_arriba_repository_example_bcr_abl1() -> None:
    assert ingest.detect_format(ARRIBA_EXAMPLE) == "arriba"
    sample = one_sample(ARRIBA_EXAMPLE)
    (fusion,) = sample.fusions
    # split_reads1 4 + split_reads2 7 = 11 junction reads; discordant_mates 0
    assert row(fusion) == ("BCR", "ABL1", "22:23632600", "9:133729451", 11, 0, "Arriba", "high", "in-frame")
    assert src(fusion) == (2, "gene1")
    assert sample.comments == []


def test_arriba_intergenic_and_unstranded_rows() -> None:
    sample = one_sample(ARRIBA)
    assert [row(f) for f in sample.fusions] == [
        ("P2RY8", "CRLF2", "X:1462581", "X:1314893", 21, 15, "Arriba", "high", "out-of-frame"),
        # reading_frame '.' is a missing value
        ("ETV6", "RUNX1", "12:11869969", "21:34859474", 2, 1, "Arriba", "low", None),
    ]
    assert [src(f) for f in sample.fusions] == [(2, "gene1"), (4, "gene1")]
    # The intergenic row is kept as a comment naming its line, not turned into a gene fusion.
    assert sample.comments == [
        "Arriba line 3: DUX4 :: IGHV3-74(2310),IGHV3-75(5872) has an intergenic breakpoint "
        "(IGHV3-74(2310),IGHV3-75(5872) = closest genes with distance); not reported as a gene fusion",
        "Arriba line 4: ETV6 :: RUNX1: the transcribed strand was not predicted ('.'), so the 5'/3' "
        "order of the partners is uncertain",
    ]


def test_arriba_header_only_means_no_fusions() -> None:
    sample = one_sample(DATA / "arriba-header-only.tsv", "arriba")
    assert sample.fusions == [] and sample.comments == []


def test_arriba_row_errors_name_line_and_column() -> None:
    problems, found = split(DATA / "arriba-bad-values.tsv", "arriba")
    assert [where(p) for p in problems] == [
        ("arriba-bad-values.tsv", 2, "split_reads2", "'seven' is not an integer"),
        ("arriba-bad-values.tsv", 3, "discordant_mates", "read count -2 is negative"),
        ("arriba-bad-values.tsv", 3, "confidence",
         "'certain' is not an Arriba confidence (low, medium, high)"),
    ]
    # the good row still comes through
    (sample,) = found
    assert [(f.gene5, f.gene3, f.junction_reads, f.spanning_reads) for f in sample.fusions] == [
        ("KMT2A", "AFF1", 17, 4)]
    assert src(sample.fusions[0]) == (4, "gene1")


def test_arriba_file_level_errors() -> None:
    assert [where(p) for p in raised(DATA / "arriba-comma.csv", "arriba")] == [
        ("arriba-comma.csv", 1, None, "expected a tab-separated file (the header contains ',')")]
    assert [where(p) for p in raised(DATA / "arriba-missing-columns.tsv", "arriba")] == [
        ("arriba-missing-columns.tsv", 1, None, "missing required column(s): split_reads2, confidence")]
    assert [where(p) for p in raised(DATA / "empty.tsv", "arriba")] == [
        ("empty.tsv", None, None, "the file is empty")]


def test_arriba_sniffs_comma_variant_so_it_gets_a_delimiter_error() -> None:
    assert ingest.detect_format(DATA / "arriba-comma.csv") == "arriba"


def test_arriba_real_test_file() -> None:
    # Arriba's own test output (suhrig/arriba test/fusions.tsv, MIT; see data/fusions/PROVENANCE)
    path = DATA / "arriba-test-fusions.tsv"
    assert ingest.detect_format(path) == "arriba"
    (fusion,) = one_sample(path).fusions
    assert row(fusion) == ("BCR", "ABL1", "22:23632600", "9:133729451", 11, 0, "Arriba", "high", "in-frame")
    assert src(fusion) == (2, "gene1")


# ----------------------------------------------------------------------------------- STAR-Fusion


def test_star_fusion_coding_effect_file() -> None:
    assert ingest.detect_format(STAR) == "star_fusion"
    sample = one_sample(STAR)
    assert [row(f) for f in sample.fusions] == [
        ("BCR", "ABL1", "chr22:23290555:+", "chr9:130714455:+", 42, 17, "STAR-Fusion", None, "INFRAME"),
        ("P2RY8", "CRLF2", "chrX:1462581:-", "chrX:1314893:-", 9, 4, "STAR-Fusion", None, "FRAMESHIFT"),
    ]
    assert [src(f) for f in sample.fusions] == [(2, "FusionName"), (3, "FusionName")]


def test_star_fusion_row_errors() -> None:
    problems, found = split(DATA / "star-fusion-bad-values.tsv", "star_fusion")
    assert [where(p) for p in problems] == [
        ("star-fusion-bad-values.tsv", 2, "SpanningFragCount", "'1.5' is not an integer"),
        ("star-fusion-bad-values.tsv", 3, "LeftGene", "empty gene"),
    ]
    (sample,) = found
    assert sample.fusions == []


def test_star_fusion_file_level_errors() -> None:
    assert [where(p) for p in raised(ARRIBA, "star_fusion")] == [
        ("arriba-fusions.tsv", 1, None,
         "missing required column(s): FusionName, JunctionReadCount, SpanningFragCount, LeftGene, "
         "LeftBreakpoint, RightGene, RightBreakpoint")]
    # the header is checked as soon as it is read; the bad byte further down is not reached
    assert next(where(p) for p in raised(DATA / "not-utf8.txt", "star_fusion"))[:2] == ("not-utf8.txt", 1)


def test_star_fusion_real_legacy_ffpm_file() -> None:
    # STAR-Fusion's saved test output (testing/__saved/..., BSD-3; see data/fusions/PROVENANCE)
    path = DATA / "star-fusion.fusion_candidates.final.abridged.FFPM"
    assert ingest.detect_format(path) == "star_fusion"
    sample = one_sample(path)
    assert len(sample.fusions) == 29
    assert row(sample.fusions[0]) == ("THRA", "AC090627.1", "chr17:38243106:+", "chr17:46371709:+", 27, 93,
                                      "STAR-Fusion", None, None)
    assert (sample.fusions[2].gene5, sample.fusions[2].gene3) == ("ACACA", "STAC2")
    assert (sample.fusions[-1].gene5, sample.fusions[-1].gene3) == ("ASTN2", "RP11-281A20.1")
    assert src(sample.fusions[-1]) == (30, "FusionName")


# --------------------------------------------------------------------------------- FusionCatcher


def test_fusioncatcher_final_list() -> None:
    assert ingest.detect_format(FUSIONCATCHER) == "fusioncatcher"
    sample = one_sample(FUSIONCATCHER)
    assert [row(f) for f in sample.fusions] == [
        # IGH stays in FusionCatcher's locus notation; resolution accepts 'IGH@'.
        ("IGH@", "CRLF2", "14:105863862:+", "X:105804415:-", 48, 120, "FusionCatcher", None,
         "---/intergenic"),
        ("PAX5", "ZNF521", "9:37002648:-", "18:25227697:-", 12, 31, "FusionCatcher", None, "in-frame"),
    ]
    assert [src(f) for f in sample.fusions] == [(2, FC_GENE5), (3, FC_GENE5)]


def test_fusioncatcher_row_errors() -> None:
    problems, found = split(DATA / "fusioncatcher-bad-values.txt", "fusioncatcher")
    assert [where(p) for p in problems] == [
        ("fusioncatcher-bad-values.txt", 2, "Spanning_pairs", "'n/a' is not an integer"),
        ("fusioncatcher-bad-values.txt", 3, FC_GENE5, "empty gene"),
        ("fusioncatcher-bad-values.txt", 4, "Spanning_unique_reads", "'2.0' is not an integer"),
    ]
    (sample,) = found
    assert sample.fusions == []


def test_fusioncatcher_file_level_errors() -> None:
    assert [where(p) for p in raised(DATA / "empty.tsv", "fusioncatcher")] == [
        ("empty.tsv", None, None, "the file is empty")]
    assert [where(p) for p in raised(DATA / "not-utf8.txt", "fusioncatcher")] == [
        ("not-utf8.txt", 2, None, "not UTF-8 text (byte 0xe9 at offset 502); save the file as UTF-8")]
    assert [where(p) for p in raised(STAR, "fusioncatcher")] == [
        ("star-fusion.fusion_predictions.abridged.coding_effect.tsv", 1, None,
         f"missing required column(s): {FC_GENE5}, {FC_GENE3}, Spanning_pairs, Spanning_unique_reads, "
         "Fusion_point_for_gene_1(5end_fusion_partner), Fusion_point_for_gene_2(3end_fusion_partner)")]


@needs_shared
def test_fusioncatcher_shared_test_run() -> None:
    path = EXAMPLES / "FusionCatcher-final-list_candidate-fusion-genes.txt"
    assert ingest.detect_format(path) == "fusioncatcher"
    sample = one_sample(path)
    assert len(sample.fusions) == 25
    assert row(sample.fusions[0]) == ("FGFR3", "TACC3", "4:1806934:+", "4:1727977:+", 66, 820,
                                      "FusionCatcher", None, "in-frame")
    igh_crlf2 = sample.fusions[6]
    assert row(igh_crlf2) == ("IGH@", "CRLF2", "14:105863263:+", "X:1228687:-", 4, 32, "FusionCatcher",
                              None, "---/intergenic")
    assert src(igh_crlf2) == (8, FC_GENE5)
    dux4 = [f for f in sample.fusions if f.gene5 == "DUX4"]
    assert [(f.gene3, f.breakpoint3, src(f)[0]) for f in dux4] == [
        ("IGH@", "14:190287409:+", 21), ("IGH@", "14:106638525:-", 22)]


@needs_shared
@pytest.mark.parametrize(
    ("name", "count", "first", "expected"),
    [
        ("COH000082_D1", 168, ("PAX5", "ZNF521", "9:37002648:-", "18:25227697:-", 37, 593),
         ("P2RY8", "CRLF2", 67)),
        ("COH000246_D1", 51, ("AC092490.2", "RIMKLB", "12:8668831:+", "12:8713811:+", 20, 32), None),
        ("COH000353_D1", 137, ("AL627171.2", "HBB", "14:49862575:-", "11:5225609:-", 3, 2857),
         ("MEF2D", "BCL9", 44)),
        ("COH000757_D1", 418, ("RN7SL1", "RMRP", "14:49586854:+", "9:35658003:-", 2, 861), None),
        ("COH000893_D1", 321, ("IGH@", "CRLF2", "14:105863862:+", "X:105804415:-", 340, 461), None),
    ],
)
def test_fusioncatcher_mdall_inputs(name: str, count: int, first: tuple[object, ...],
                                    expected: tuple[str, str, int] | None) -> None:
    path = EXAMPLES / f"FusionCatcher-{name}.fusioncatcher"
    assert ingest.detect_format(path) == "fusioncatcher"
    sample = one_sample(path)
    assert len(sample.fusions) == count
    assert row(sample.fusions[0])[:6] == first
    assert src(sample.fusions[-1]) == (count + 1, FC_GENE5)
    if expected is not None:
        gene5, gene3, line = expected
        hits = [src(f)[0] for f in sample.fusions if (f.gene5, f.gene3) == (gene5, gene3)]
        assert hits[0] == line
    if name == "COH000246_D1":
        # MD-ALL's Ph test sample: neither of its fusion files has a BCR::ABL1 row.
        assert not [f for f in sample.fusions if {f.gene5, f.gene3} == {"BCR", "ABL1"}]


@needs_shared
def test_fusioncatcher_summary_is_not_sniffed() -> None:
    """The free-text summary is not a table any adapter reads."""
    path = EXAMPLES / "FusionCatcher-summary_candidate_fusions.txt"
    with pytest.raises(InputError):
        ingest.detect_format(path)


# ------------------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("path", "fmt"),
    [(ARRIBA, "arriba"), (STAR, "star_fusion"), (FUSIONCATCHER, "fusioncatcher")],
)
def test_sniff_by_header_not_file_name(path: Path, fmt: str, tmp_path: Path) -> None:
    renamed = tmp_path / "calls.txt"
    renamed.write_bytes(path.read_bytes())
    assert ingest.detect_format(renamed) == fmt
    modules = {"arriba": arriba, "star_fusion": star_fusion, "fusioncatcher": fusioncatcher}
    head = path.read_text()
    assert [name for name, m in modules.items() if m.sniff(path, head)] == [fmt]
