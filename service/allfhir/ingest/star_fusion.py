"""STAR-Fusion: `star-fusion.fusion_predictions.tsv`, `.abridged.tsv`, `.abridged.coding_effect.tsv`
and the legacy `star-fusion.fusion_candidates.final.abridged.FFPM`.

Tab-separated, one header line starting with '#FusionName'. The columns changed between releases
(est_J/est_S, J_FFPM/S_FFPM or FFPM, annots; the abridged file drops JunctionReads and
SpanningFrags), so columns are read by name and only the ones every layout has are required.
`LeftGene`/`RightGene` are 'SYMBOL^ENSG...' - the symbol is the part before '^'; the left gene is
the 5' partner and the right gene the 3' partner (FusionName 'BCR--ABL1'). Breakpoints are kept
as written ('chr22:23180365:+'). The reading frame exists only in the coding_effect file
(`PROT_FUSION_TYPE`, e.g. INFRAME, FRAMESHIFT) and is kept as written. STAR-Fusion has no
confidence column. The file does not name its sample: one Sample per file, sample_id None.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import InputError, Problem
from ..model import Fusion, Sample
from ._fusion_file import fusion_sample
from ._tabular import Row, first_line, optional_cell, read_count, read_table
from .source import Source

NAME = "star_fusion"
KIND = "companion"
DESCRIPTION = "STAR-Fusion star-fusion.fusion_predictions(.abridged).tsv: LeftGene (5') :: RightGene (3')"

CALLER = "STAR-Fusion"
LEFT = "LeftGene"
RIGHT = "RightGene"
JUNCTION = "JunctionReadCount"
SPANNING = "SpanningFragCount"
FRAME = "PROT_FUSION_TYPE"
REQUIRED = ["FusionName", JUNCTION, SPANNING, LEFT, "LeftBreakpoint", RIGHT, "RightBreakpoint"]


def sniff(source: Source, head: str) -> bool:
    first = first_line(head)
    # No separator is checked, so a re-saved comma file is recognised and gets a delimiter error.
    return first.startswith("#FusionName") and "LeftBreakpoint" in first


def read(source: Source) -> Iterator[Sample | InputError]:
    _header, rows = read_table(source, "\t", REQUIRED, comment_header_prefix="#")
    return fusion_sample(source.name, rows, _fusion)


def _fusion(row: Row, problems: list[Problem], comments: list[str]) -> Fusion | None:
    gene5 = _symbol(row, LEFT, problems)
    gene3 = _symbol(row, RIGHT, problems)
    junction = read_count(row, JUNCTION, problems)
    spanning = read_count(row, SPANNING, problems)
    if problems or gene5 is None or gene3 is None:
        return None
    return Fusion(
        gene5=gene5,
        gene3=gene3,
        breakpoint5=optional_cell(row, "LeftBreakpoint"),
        breakpoint3=optional_cell(row, "RightBreakpoint"),
        junction_reads=junction,
        spanning_reads=spanning,
        caller=CALLER,
        reading_frame=optional_cell(row, FRAME),
        source=row.ref("FusionName"),
    )


def _symbol(row: Row, column: str, problems: list[Problem]) -> str | None:
    # 'BCR^ENSG00000186716.20' -> 'BCR'; a cell without '^' is already a bare symbol.
    symbol = row.cells[column].split("^", 1)[0].strip()
    if not symbol:
        problems.append(row.problem(column, "empty gene", code="required"))
        return None
    return symbol



