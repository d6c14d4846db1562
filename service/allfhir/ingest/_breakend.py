"""VCF breakend (BND) pairs -> gene fusions, the 5'/3' order taken from the junction's biology.

A breakend record at CHROM:POS with REF base t names its mate p = chrom:pos in its ALT; VCF 4.3
section 5.4 gives four forms, each saying which side of both positions is kept at the junction:

    ALT     meaning (VCF 4.3, 5.4)                                   kept here  kept at mate
    t[p[    piece extending to the right of p is joined after t      left       right
    t]p]    reverse comp piece extending left of p joined after t    left       left
    ]p]t    piece extending to the left of p is joined before t      right      left
    [p[t    reverse comp piece extending right of p joined before t  right      right

('left' is the part of the chromosome up to the position, 'right' the part from it on.)
A gene transcribed on the + strand keeps its 5' part on its left, a gene on the - strand on its
right. So each side of the junction contributes its gene's 5' part or its 3' part:

    (left, +) and (right, -) -> 5' part;   (right, +) and (left, -) -> 3' part

and the fusion is gene5::gene3 when one side gives a 5' part and the other a 3' part. BCR::ABL1
on the Philadelphia chromosome (both genes on +) is BCR's left joined to ABL1's right: the chr22
record reads t[chr9:p[ and its chr9 mate ]chr22:p]t, and both give BCR::ABL1.

The strand must come from the annotation (VEP CSQ STRAND 1 / -1); nothing is guessed. Whatever
cannot be decided (no strand, no mate, an intergenic side, both sides in one gene, or a junction
joining two 5' or two 3' parts) is returned as a reason with the records' lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..model import Fusion, SourceRef

Side = Literal["left", "right"]

# t[p[ / t]p] (bases before the bracket) and ]p]t / [p[t (bases after it); p is chrom:pos, the
# chrom possibly an <contig> name.
_PAIRED = re.compile(r"^(?P<before>[A-Za-z]*)(?P<b>[\[\]])(?P<chrom>[^\[\]:]+|<[^>]+>):(?P<pos>\d+)"
                     r"(?P=b)(?P<after>[A-Za-z]*)$")


@dataclass(frozen=True, slots=True)
class Breakend:
    """One BND record: where it is, where its mate is, which sides are joined, its gene."""

    line: int
    chrom: str
    pos: int
    record_id: str | None
    mate_id: str | None
    mate_chrom: str
    mate_pos: int
    kept: Side
    mate_kept: Side
    gene: str | None
    strand: int | None  # 1 / -1 (VEP STRAND); None when the annotator gives none
    annotated: bool  # the record has an annotation entry at all
    carriers: frozenset[str | None]  # the samples whose genotype carries the breakend


def sides(alt: str) -> tuple[str, int, Side, Side] | None:
    """(mate chrom, mate pos, side kept here, side kept at the mate) of a paired breakend ALT, or
    None when the ALT is no paired breakend (a single breakend '.A' / 'G.', a malformed one)."""
    m = _PAIRED.match(alt)
    if m is None or bool(m["before"]) == bool(m["after"]):
        return None
    kept: Side = "left" if m["before"] else "right"
    # '[' points to the right: the mate's piece extends to the right of p; ']' to the left.
    mate_kept: Side = "right" if m["b"] == "[" else "left"
    return m["chrom"], int(m["pos"]), kept, mate_kept


def _part(side: Side, strand: int) -> str:
    """Which part of a gene (on strand 1 / -1) the side of its breakpoint kept at the junction is."""
    return "5'" if (side == "left") == (strand == 1) else "3'"


@dataclass(frozen=True, slots=True)
class PairResult:
    fusion: Fusion | None
    carriers: frozenset[str | None]
    lines: tuple[int, ...]
    reason: str | None  # why no fusion was made, when fusion is None


def pair(breakends: list[Breakend], annotator: str, file: str, column: str) -> list[PairResult]:
    """Breakends joined with their mates (by MATEID, else by the positions each ALT names), in the
    order of the first mate in the file; a fusion for each pair whose order is decided."""
    by_id = {b.record_id: b for b in breakends if b.record_id}
    by_pos = {(b.chrom, b.pos, b.mate_chrom, b.mate_pos): b for b in breakends}
    used: set[int] = set()
    out: list[PairResult] = []
    for first in breakends:
        if first.line in used:
            continue
        used.add(first.line)
        mate = (by_id.get(first.mate_id) if first.mate_id else None) or by_pos.get(
            (first.mate_chrom, first.mate_pos, first.chrom, first.pos))
        if mate is None or mate.line in used:
            named = first.mate_id or f"{first.mate_chrom}:{first.mate_pos}"
            out.append(PairResult(None, first.carriers, (first.line,),
                                  f"its mate breakend {named} is not among the records kept "
                                  "(FILTER PASS or '.'): one breakend cannot say which genes are joined"))
            continue
        used.add(mate.line)
        out.append(_fusion(first, mate, annotator, file, column))
    return out


def _fusion(a: Breakend, b: Breakend, annotator: str, file: str, column: str) -> PairResult:
    lines = (a.line, b.line)
    carriers = a.carriers & b.carriers

    def refused(reason: str) -> PairResult:
        return PairResult(None, carriers, lines, reason)

    if (a.mate_chrom, a.mate_pos, a.mate_kept) != (b.chrom, b.pos, b.kept) or (
            b.mate_chrom, b.mate_pos, b.mate_kept) != (a.chrom, a.pos, a.kept):
        return refused("the two mates' ALTs describe different junctions (positions or bracket "
                       "orientation disagree)")
    for end in (a, b):
        if not end.annotated:
            return refused(f"the breakend at {end.chrom}:{end.pos} has no {annotator} annotation")
        if not end.gene:
            return refused(f"the breakend at {end.chrom}:{end.pos} lies in no annotated gene "
                           "(intergenic): a gene fusion needs a gene on both sides")
    if a.gene == b.gene:
        return refused(f"both breakends lie in {a.gene}: a rearrangement within one gene, "
                       "not a fusion of two genes")
    if a.strand is None or b.strand is None:
        return refused(f"the annotation gives no transcription strand for {a.gene} and {b.gene} "
                       f"({annotator} writes none; VEP's CSQ STRAND does), so which gene's 5' part "
                       "is joined to which gene's 3' part cannot be decided")
    part_a, part_b = _part(a.kept, a.strand), _part(b.kept, b.strand)
    if part_a == part_b:
        return refused(f"the junction joins the {part_a} parts of {a.gene} and {b.gene}: "
                       "no fusion transcript reads through it")
    five, three = (a, b) if part_a == "5'" else (b, a)
    return PairResult(
        Fusion(gene5=five.gene or "", gene3=three.gene or "", breakpoint5=_breakpoint(five),
               breakpoint3=_breakpoint(three), caller=f"{annotator} (VCF BND)",
               source=SourceRef(file=file, row=a.line, column=column)),
        carriers, lines, None)


def _breakpoint(end: Breakend) -> str:
    # As the fusion callers write it: chromosome, position, the gene's transcription strand.
    return f"{end.chrom}:{end.pos}:{'+' if end.strand == 1 else '-'}"


def strand_of(value: str | None) -> int | None:
    """VEP's STRAND ('1' / '-1'); anything else is no strand."""
    return {"1": 1, "-1": -1}.get((value or "").strip())


def lines_text(lines: Iterable[int]) -> str:
    shown = list(lines)
    return ("line " if len(shown) == 1 else "lines ") + ", ".join(str(n) for n in shown)
