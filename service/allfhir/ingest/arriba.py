"""Arriba (suhrig/arriba): `fusions.tsv` and `fusions.discarded.tsv` (same layout).

Tab-separated, one header line starting with '#gene1' (v1.x and v2.x; 2.x has 30 columns). Per
Arriba's documentation (documentation/output-files.md), `gene1` is the gene that makes up the 5'
end of the fusion transcript and `gene2` the 3' end, so gene1 -> Fusion.gene5 and gene2 ->
Fusion.gene3; the order is Arriba's prediction from read strands and splice patterns.
Read support: `split_reads1` + `split_reads2` is the number of split (junction) reads,
`discordant_mates` the spanning pairs. `confidence` is low|medium|high; missing values are '.'.

Intergenic partners: when a breakpoint is not in a gene, Arriba writes the closest genes with their
distance, e.g. 'GENE1(1234),GENE2(5678)'. That names neighbours, not a fusion partner, so such a
row is not turned into a gene fusion (it would claim GENE1::X); it is kept as a sample comment
naming the line, so the finding is still in the report and never silently dropped.
Breakpoints are kept as Arriba writes them ('22:23632600'; contig naming follows the reference).
The file does not name its sample: one Sample per file with sample_id None.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import InputError, Problem
from ..model import Fusion, Sample
from ._fusion_file import fusion_sample, gene_cell
from ._tabular import Row, first_line, optional_cell, read_count, read_table
from .source import Source

NAME = "arriba"
KIND = "companion"
DESCRIPTION = "Arriba fusions.tsv (or fusions.discarded.tsv): gene1 (5') :: gene2 (3') fusion calls"

CALLER = "Arriba"
GENE1 = "gene1"
GENE2 = "gene2"
STRAND1 = "strand1(gene/fusion)"
STRAND2 = "strand2(gene/fusion)"
REQUIRED = [GENE1, GENE2, "breakpoint1", "breakpoint2", "split_reads1", "split_reads2",
            "discordant_mates", "confidence"]
CONFIDENCE = ("low", "medium", "high")
# 'NAME(distance)' as Arriba writes the closest gene of an intergenic breakpoint.
_NEIGHBOUR = re.compile(r"\(\d+\)")


def sniff(source: Source, head: str) -> bool:
    first = first_line(head)
    # Comma/semicolon variants too, so a re-saved file is recognised and gets a delimiter error.
    return any(first.startswith(f"#gene1{sep}gene2{sep}") for sep in ("\t", ",", ";"))


def read(source: Source) -> Iterator[Sample | InputError]:
    _header, rows = read_table(source, "\t", REQUIRED, comment_header_prefix="#")
    return fusion_sample(source.name, rows, _fusion)


def _fusion(row: Row, problems: list[Problem], comments: list[str]) -> Fusion | None:
    gene1 = gene_cell(row, GENE1, problems)
    gene2 = gene_cell(row, GENE2, problems)
    split1 = read_count(row, "split_reads1", problems)
    split2 = read_count(row, "split_reads2", problems)
    discordant = read_count(row, "discordant_mates", problems)
    confidence = row.cells["confidence"].strip()
    if confidence not in CONFIDENCE:
        problems.append(row.problem(
            "confidence", f"'{confidence}' is not an Arriba confidence (low, medium, high)"))
    if problems:
        return None
    intergenic = [g for g in (gene1, gene2) if _is_intergenic(g)]
    if intergenic:
        comments.append(
            f"Arriba line {row.line}: {gene1} :: {gene2} has an intergenic breakpoint "
            f"({'; '.join(intergenic)} = closest genes with distance); not reported as a gene fusion")
        return None
    if _strand(row, STRAND1) == "." and _strand(row, STRAND2) == ".":
        comments.append(
            f"Arriba line {row.line}: {gene1} :: {gene2}: the transcribed strand was not "
            "predicted ('.'), so the 5'/3' order of the partners is uncertain")
    junction = None if split1 is None and split2 is None else (split1 or 0) + (split2 or 0)
    return Fusion(
        gene5=gene1,
        gene3=gene2,
        breakpoint5=optional_cell(row, "breakpoint1"),
        breakpoint3=optional_cell(row, "breakpoint2"),
        junction_reads=junction,
        spanning_reads=discordant,
        caller=CALLER,
        confidence=confidence,
        reading_frame=optional_cell(row, "reading_frame"),
        source=row.ref(GENE1),
    )


def _is_intergenic(gene: str) -> bool:
    return gene == "." or "," in gene or bool(_NEIGHBOUR.search(gene))


def _strand(row: Row, column: str) -> str | None:
    cell = row.cells.get(column)
    if cell is None or "/" not in cell:
        return None
    return cell.split("/", 1)[1].strip()



