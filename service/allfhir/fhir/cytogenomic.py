"""Ploidy and copy-number changes -> IG Variant Observations.

Per the IG's CNV guidance (input/fsh/examples/SMN1SMN2_CNVexample.fsh): a Variant with
coding-change-type from Sequence Ontology, copy-number as a UCUM '1' Quantity, the gene studied
when gene-level, and the chromosome / cytogenetic location. The modal chromosome number has no
IG component, so it is coded in our CodeSystem (component slicing is open).
"""

from __future__ import annotations

from .. import codes
from ..knowledge import Knowledge
from ..model import CopyNumberChange, Ploidy
from .common import (
    Json,
    ReportContext,
    allfhir_code,
    component,
    concept,
    loinc,
    observation,
    text_concept,
    unit_quantity,
)
from .variant import gene_component, origin_component, present

_CHANGE_SO = {
    "gain": "copy_number_gain",
    "amplification": "copy_number_gain",
    "loss": "copy_number_loss",
    "deletion": "copy_number_loss",
}


def region(c: CopyNumberChange) -> str:
    if c.gene:
        return c.gene
    if c.start is not None and c.end is not None:
        return f"{c.chromosome or ''}:{c.start}-{c.end}"
    return f"{c.chromosome or ''}{c.arm or ''}"


def coordinates(c: CopyNumberChange) -> str | None:
    """The region as the file gave it, for people: 'chr9:21967752-21995301 (GRCh38, 1-based)'."""
    if c.start is None or c.end is None:
        return None
    return f"{c.chromosome or ''}:{c.start}-{c.end} ({c.assembly or 'assembly not stated'}, 1-based)"


def change_label(c: CopyNumberChange) -> str:
    sign = "+" if c.change in ("gain", "amplification") else "-"
    what = f"{region(c)}{sign}" if not c.gene else f"{c.gene} {c.change}"
    return f"{'?' if c.uncertain else ''}{what}"


def build_copy_number(ctx: ReportContext, kb: Knowledge, c: CopyNumberChange) -> Json:
    # Coordinates join the id only when present, so the ids of region-less calls stay as they were.
    where = [f"{c.chromosome}:{c.start}-{c.end}"] if c.start is not None else []
    obs = observation(ctx, ctx.new_id("cnv", c.change, region(c), c.iscn or "", *where),
                      codes.PROFILE_VARIANT, loinc(codes.LOINC_VARIANT))
    obs["valueCodeableConcept"] = present(kb)
    comps: list[Json] = []
    if c.gene:
        comps.append(gene_component(kb, c.gene))
    so = kb.so(_CHANGE_SO[c.change])
    if so:
        comps.append(component(loinc(codes.LOINC_CODING_CHANGE_TYPE),
                               valueCodeableConcept=concept(so)))
    if c.chromosome:
        comps.append(_chromosome(kb, c.chromosome))
        if c.arm:
            comps.append(component(loinc(codes.LOINC_CYTOGENETIC_LOCATION),
                                   valueCodeableConcept=text_concept(f"{c.chromosome}{c.arm}")))
    if c.start is not None and c.end is not None:
        # Located as the fusion breakpoints are (fusion.py): the assembly when the file names
        # it, the region as exact-start-end in the file's 1-based positions, so the IG's
        # structural-variant operations (allfhir.genomics) find the change by its coordinates.
        if c.assembly and kb.loinc_answers.get(("LL1040-6", c.assembly.casefold())):
            comps.append(component(loinc(codes.LOINC_REFERENCE_ASSEMBLY),
                                   valueCodeableConcept=concept(kb.loinc_answer("LL1040-6",
                                                                                c.assembly))))
        comps.append(component(loinc(codes.LOINC_EXACT_START_END),
                               valueRange={"low": {"value": c.start}, "high": {"value": c.end}}))
    if c.iscn:
        comps.append(component(loinc(codes.LOINC_CYTOGENOMIC_NOMENCLATURE),
                               valueCodeableConcept=text_concept(c.iscn)))
    if c.copy_number is not None:
        comps.append(component(loinc(codes.LOINC_COPY_NUMBER),
                               valueQuantity=unit_quantity(c.copy_number)))
    comps.append(origin_component(kb, "somatic"))
    obs["component"] = comps
    notes = []
    if c.uncertain:
        notes.append("low-confidence call ('?' in the CNV estimate)")
    span = coordinates(c)
    if span:
        # As text: the assembly and coordinate-system answer codes are not in mappings/ yet.
        notes.append(f"region {span}" + (f"; annotated by {c.annotator}" if c.annotator else ""))
    if notes:
        obs["note"] = [{"text": "; ".join(notes)}]
    return obs


def build_ploidy(ctx: ReportContext, kb: Knowledge, p: Ploidy) -> Json:
    obs = observation(ctx, ctx.new_id("ploidy", str(p.chromosome_count), p.iscn or ""),
                      codes.PROFILE_VARIANT, loinc(codes.LOINC_VARIANT))
    obs["valueCodeableConcept"] = present(kb)
    comps: list[Json] = []
    so = kb.so("chromosome_number_variation")
    if so:
        comps.append(component(loinc(codes.LOINC_CODING_CHANGE_TYPE),
                               valueCodeableConcept=concept(so)))
    if p.iscn:
        comps.append(component(loinc(codes.LOINC_CYTOGENOMIC_NOMENCLATURE),
                               valueCodeableConcept=text_concept(p.iscn)))
    if p.chromosome_count is not None:
        comps.append(component(allfhir_code(codes.C_CHROMOSOME_COUNT),
                               valueQuantity=unit_quantity(p.chromosome_count)))
    comps.append(origin_component(kb, "somatic"))
    obs["component"] = comps
    return obs


def build_iamp21(ctx: ReportContext, kb: Knowledge, p: Ploidy) -> Json:
    """iAMP21 as a copy-number gain of chromosome 21 (intrachromosomal amplification)."""
    change = CopyNumberChange(change="amplification", chromosome="21", iscn=p.iscn, source=p.source)
    obs = build_copy_number(ctx, kb, change)
    obs["component"].insert(0, component(loinc(codes.LOINC_VARIATION_CODE),
                                         valueCodeableConcept=text_concept("iAMP21")))
    return obs


def _chromosome(kb: Knowledge, chromosome: str) -> Json:
    name = chromosome.removeprefix("chr")
    return component(loinc(codes.LOINC_CHROMOSOME_IDENTIFIER),
                     valueCodeableConcept=concept(kb.loinc_answer("LL2938-0", f"Chromosome {name}")))
