"""FusionCatcher (ndaniel/fusioncatcher): `final-list_candidate-fusion-genes.txt`.

Tab-separated with one header line, 16 columns (some versions append Predicted_fused_transcripts
and Predicted_fused_proteins); the MD-ALL test inputs `<sample>.fusioncatcher` are the same file.
The header names the partners' roles: `Gene_1_symbol(5end_fusion_partner)` -> gene5 and
`Gene_2_symbol(3end_fusion_partner)` -> gene3. IGH is written as the locus 'IGH@' and kept so
(allfhir.knowledge accepts it). Read support: `Spanning_unique_reads` are the reads over the
junction (junction_reads), `Spanning_pairs` the pairs spanning it (spanning_reads).
`Fusion_point_for_gene_1/2` ('9:37002648:-') are kept as written, and `Predicted_effect`
('in-frame', 'out-of-frame', 'intronic/CDS(truncated)', ...) as the reading frame.
FusionCatcher has no confidence column. Several rows may share a gene pair (one per junction);
each becomes its own Fusion. The file does not name its sample: one Sample, sample_id None.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import InputError, Problem
from ..model import Fusion, Sample
from ._fusion_file import fusion_sample, gene_cell
from ._tabular import Row, first_line, optional_cell, read_count, read_table
from .source import Source

NAME = "fusioncatcher"
KIND = "companion"
DESCRIPTION = ("FusionCatcher final-list_candidate-fusion-genes.txt (also MD-ALL's .fusioncatcher): "
               "5' :: 3' partner fusion calls")

CALLER = "FusionCatcher"
GENE5 = "Gene_1_symbol(5end_fusion_partner)"
GENE3 = "Gene_2_symbol(3end_fusion_partner)"
POINT5 = "Fusion_point_for_gene_1(5end_fusion_partner)"
POINT3 = "Fusion_point_for_gene_2(3end_fusion_partner)"
PAIRS = "Spanning_pairs"
UNIQUE = "Spanning_unique_reads"
EFFECT = "Predicted_effect"
REQUIRED = [GENE5, GENE3, PAIRS, UNIQUE, POINT5, POINT3]


def sniff(source: Source, head: str) -> bool:
    first = first_line(head)
    # No separator is checked, so a re-saved file is recognised and gets a delimiter error.
    return first.startswith(GENE5) and GENE3 in first


def read(source: Source) -> Iterator[Sample | InputError]:
    _header, rows = read_table(source, "\t", REQUIRED)
    return fusion_sample(source.name, rows, _fusion)


def _fusion(row: Row, problems: list[Problem], comments: list[str]) -> Fusion | None:
    gene5 = gene_cell(row, GENE5, problems)
    gene3 = gene_cell(row, GENE3, problems)
    pairs = read_count(row, PAIRS, problems)
    unique = read_count(row, UNIQUE, problems)
    if problems:
        return None
    return Fusion(
        gene5=gene5,
        gene3=gene3,
        breakpoint5=optional_cell(row, POINT5),
        breakpoint3=optional_cell(row, POINT3),
        junction_reads=unique,
        spanning_reads=pairs,
        caller=CALLER,
        reading_frame=optional_cell(row, EFFECT),
        source=row.ref(GENE5),
    )
