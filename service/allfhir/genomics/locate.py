"""Where things lie on the genome: the operations' RefSeq ranges, and the extent of a stored
variant Observation.

A range is the IG's zero-based `RefSeq:start-end` (`NC_000007.14:55174721-55174820`), an
interval [start, end) on a chromosome of one assembly; its accession names both, as the NCBI
assembly reports in biocommons' bioutils list them (GRCh37, GRCh38 assembled chromosomes).

A stored variant lies, in order of preference, where
- its genomic HGVS (81290-9, `NC_000009.12:g.37015165G>C`) puts it (1-based positions);
- its exact-start-end (81254-5) says, on its chromosome (48000-4) of its assembly (62374-4),
  in the coordinate system its 92822-6 component names, else in 1-based positions as the
  pipeline writes them (fusion breakpoints and copy-number regions, as the caller gave them);
- inner / outer start-end (81302-2 / 81301-4) say, likewise;
- or, for a whole-chromosome change without coordinates (iAMP21, a chromosome gain), over its
  whole chromosome in any assembly; an arm-level change without coordinates is not placed.
A located variant without an assembly is placed only by a range of the same chromosome when
its assembly cannot matter (whole chromosomes); otherwise it is not placed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from .. import codes
from ..errors import RequestError
from ..hgvs_syntax import hgvs_error

Json = dict[str, Any]
ASSEMBLIES = ("GRCh37", "GRCh38")
_RANGE = re.compile(r"^(?P<ac>N[CTW]_[0-9]+\.[0-9]+):(?P<start>[0-9]+)-(?P<end>[0-9]+)$")
OUTER, INNER = "81301-4", "81302-2"


@dataclass(frozen=True, slots=True)
class Span:
    assembly: str | None  # None: the variant's assembly is not stated
    chromosome: str  # '1'..'22', 'X', 'Y'
    start: int  # zero-based, inclusive
    end: int  # exclusive
    whole: bool = False  # a whole chromosome: placed in any assembly


@dataclass(frozen=True, slots=True)
class Range:
    text: str
    assembly: str
    chromosome: str
    start: int
    end: int

    def intersects(self, span: Span) -> bool:
        if not self._same_sequence(span):
            return False
        end = chromosome_length(self.assembly, span.chromosome) if span.whole else span.end
        # a point (start == end, e.g. a breakpoint between bases) intersects when inside
        return span.start < self.end and self.start < max(end, span.start + 1)

    def subsumes(self, span: Span) -> bool:
        if not self._same_sequence(span):
            return False
        end = chromosome_length(self.assembly, span.chromosome) if span.whole else span.end
        return self.start <= span.start and end <= self.end

    def _same_sequence(self, span: Span) -> bool:
        return span.chromosome == self.chromosome and (
            span.assembly == self.assembly or (span.whole and span.assembly is None))


@cache
def _sequences() -> dict[str, tuple[str, str, int]]:
    """RefSeq accession -> (assembly, chromosome, length) of the assembled chromosomes."""
    from bioutils.assemblies import get_assembly

    out = {}
    for name in ASSEMBLIES:
        for seq in get_assembly(name)["sequences"]:
            if seq["sequence_role"] == "assembled-molecule" and seq["refseq_ac"] and \
                    seq["name"] != "MT":
                out[seq["refseq_ac"]] = (name, seq["name"], seq["length"])
    return out


@cache
def chromosome_length(assembly: str, chromosome: str) -> int:
    return next(length for a, c, length in _sequences().values()
                if a == assembly and c == chromosome)


def parse_range(text: str) -> Range:
    m = _RANGE.match(text.strip())
    if m is None:
        raise RequestError("malformed", f"range '{text}' is not a zero-based RefSeq range "
                           "'accession:start-end' (e.g. NC_000007.14:55174721-55174820)",
                           code="value")
    found = _sequences().get(m["ac"])
    if found is None:
        raise RequestError("malformed", f"range '{text}': {m['ac']} is not a GRCh37 or GRCh38 "
                           "chromosome accession", code="value")
    start, end = int(m["start"]), int(m["end"])
    if end < start:
        raise RequestError("malformed", f"range '{text}' ends before it starts", code="value")
    return Range(text.strip(), found[0], found[1], start, end)


def _component(obs: Json, code: str) -> Json | None:
    return next((c for c in obs.get("component", []) for cd in c["code"].get("coding", [])
                 if cd.get("system") == codes.LOINC and cd.get("code") == code), None)


def _display(comp: Json | None) -> str | None:
    coding = ((comp or {}).get("valueCodeableConcept") or {}).get("coding") or [{}]
    return coding[0].get("display") or coding[0].get("code")


def genomic_hgvs(obs: Json) -> str | None:
    return _display(_component(obs, codes.LOINC_GENOMIC_HGVS))


def is_small(obs: Json) -> bool:
    """A sequence variant (alleles or HGVS), not a structural change."""
    return any(_component(obs, c) for c in (codes.LOINC_GENOMIC_HGVS, codes.LOINC_CODING_HGVS,
                                            codes.LOINC_REF_ALLELE))


def span(obs: Json) -> Span | None:
    hgvs = genomic_hgvs(obs)
    if hgvs and hgvs_error(hgvs) is None:
        placed = _hgvs_span(hgvs)
        if placed:
            return placed
    chromosome = (_display(_component(obs, codes.LOINC_CHROMOSOME_IDENTIFIER)) or "")
    chromosome = chromosome.removeprefix("Chromosome ").removeprefix("chr")
    if not chromosome:
        return None
    assembly = _display(_component(obs, codes.LOINC_REFERENCE_ASSEMBLY))
    for code in (codes.LOINC_EXACT_START_END, INNER, OUTER):
        comp = _component(obs, code)
        if comp and "valueRange" in comp:
            low = comp["valueRange"].get("low", {}).get("value")
            high = comp["valueRange"].get("high", {}).get("value", low)
            if low is None or assembly not in ASSEMBLIES:
                return None
            system = (_display(_component(obs, codes.LOINC_COORDINATE_SYSTEM)) or "").lower()
            zero_based = system.startswith("0-based")
            return Span(assembly, chromosome, int(low) if zero_based else int(low) - 1, int(high))
    if _component(obs, codes.LOINC_CYTOGENETIC_LOCATION):
        return None  # an arm or band, whose coordinates are not stored
    return Span(None, chromosome, 0, 0, whole=True)


def _hgvs_span(expression: str) -> Span | None:
    accession, _, rest = expression.partition(":g.")
    found = _sequences().get(accession)
    m = re.match(r"([0-9]+)(?:_([0-9]+))?", rest)
    if found is None or m is None:
        return None
    start = int(m[1])
    end = int(m[2]) if m[2] else start
    return Span(found[0], found[1], start - 1, end)
