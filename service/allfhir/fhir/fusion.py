"""Gene fusions -> IG Variant Observations, one per breakpoint, and a Molecular Consequence.

Read in the IG source (HL7/genomics-reporting @ 3.0.0-published):
- The fusion itself is a Variant (CGFindings.fsh) as the ROS1 example
  (examples/somaticReportPDFexamples.fsh, ROS1-Fusion-var) has it: variation-code text and
  gene-studied (here both partners), coding-change-type SO:0001565 gene_fusion (the genomic-study
  example's term), cytogenomic-nomenclature (81291-7) with the ISCN of the rearrangement when
  the input or mappings/fusion_karyotypes.csv knows it, coded in $ISCN as CGExamples.fsh does.
- Its molecular consequence is a separate MolecularConsequence Observation (CGImplications.fsh)
  derived from the fusion, with the functional-effect component SO:0001886 transcript_fusion:
  exactly the IG's ROS1-Fusion example.
- A breakpoint is a position on a reference sequence. The Variant profile allows one
  exact-start-end (0..1), and sequencing.html says translocations "will require additional model
  development", so one Observation cannot carry the two loci of a fusion. Each breakpoint is its
  own Variant (gene-studied, chromosome-identifier 48000-4, reference-sequence-assembly 62374-4
  only when the assembly was given, exact-start-end 81254-5), and the fusion is derivedFrom its
  breakpoints, as the IG's Genotype and Haplotype are derivedFrom their Variants.
The caller's read support, confidence and reading frame have no IG slot: components coded in our
CodeSystem (the component slicing is open); total support in allelic-read-depth.
"""

from __future__ import annotations

import re

from .. import codes
from ..fusion_karyotypes import pair
from ..knowledge import Knowledge
from ..model import Fusion
from .common import (
    Json,
    ReportContext,
    allfhir_code,
    coding,
    component,
    concept,
    loinc,
    observation,
    ref_to,
    text_concept,
    unit_quantity,
)
from .variant import gene_component, origin_component, present

# 'chr22:23290555:+' (STAR-Fusion), '22:23632600:+' (FusionCatcher), 'X:1462581' (Arriba)
_BREAKPOINT = re.compile(r"^(?:chr)?(?P<chrom>[0-9]{1,2}|X|Y):(?P<pos>[0-9]+)(?::[+-])?$")


def build(ctx: ReportContext, kb: Knowledge, f: Fusion) -> Json:
    """The fusion Variant; its breakpoints and molecular consequence are added to `ctx`."""
    name = kb.fusion_name(f)
    obs = observation(ctx, ctx.new_id("fusion", name, f.breakpoint5 or "", f.breakpoint3 or ""),
                      codes.PROFILE_VARIANT, loinc(codes.LOINC_VARIANT))
    obs["valueCodeableConcept"] = present(kb)
    comps = [gene_component(kb, f.gene5)]
    if kb.symbol(f.gene3) != kb.symbol(f.gene5):
        comps.append(gene_component(kb, f.gene3))
    comps.append(component(loinc(codes.LOINC_VARIATION_CODE),
                           valueCodeableConcept=text_concept(f"{name} fusion")))
    so = kb.so("gene_fusion")
    if so:
        comps.append(component(loinc(codes.LOINC_CODING_CHANGE_TYPE),
                               valueCodeableConcept=concept(so)))
    iscn = iscn_of(kb, f)
    if iscn:
        comps.append(component(loinc(codes.LOINC_CYTOGENOMIC_NOMENCLATURE),
                               valueCodeableConcept=concept(coding(codes.ISCN, iscn))))
    comps.append(origin_component(kb, "somatic"))
    support = (f.junction_reads or 0) + (f.spanning_reads or 0)
    if f.junction_reads is not None or f.spanning_reads is not None:
        comps.append(component(loinc(codes.LOINC_ALLELIC_READ_DEPTH),
                               valueQuantity=unit_quantity(support)))
    if f.junction_reads is not None:
        comps.append(component(allfhir_code(codes.C_JUNCTION_READS),
                               valueQuantity=unit_quantity(f.junction_reads)))
    if f.spanning_reads is not None:
        comps.append(component(allfhir_code(codes.C_SPANNING_READS),
                               valueQuantity=unit_quantity(f.spanning_reads)))
    if f.confidence:
        comps.append(component(allfhir_code(codes.C_CALLER_CONFIDENCE), valueString=f.confidence))
    if f.reading_frame:
        comps.append(component(allfhir_code(codes.C_READING_FRAME), valueString=f.reading_frame))
    obs["component"] = comps

    notes = [f"called by {f.caller}"] if f.caller else []
    derived = []
    for end, gene, written in (("5'", f.gene5, f.breakpoint5), ("3'", f.gene3, f.breakpoint3)):
        if not written:
            continue
        point = breakpoint(ctx, kb, obs, name, end, gene, written, f.assembly)
        if point is None:  # not a position on a nuclear chromosome: kept as the caller wrote it
            notes.append(f"{end} breakpoint {written}")
        else:
            derived.append(ctx.add(point))
    if derived:
        obs["derivedFrom"] = derived
    if notes:
        obs["note"] = [{"text": "; ".join(notes)}]
    consequence = molecular_consequence(ctx, kb, obs)
    if consequence:
        ctx.add(consequence)
    return obs


def iscn_of(kb: Knowledge, f: Fusion) -> str | None:
    """The input's own ISCN, else the karyotype mappings/fusion_karyotypes.csv gives the pair."""
    if f.iscn:
        return f.iscn
    known = kb.fusion_karyotypes.get(pair(kb.symbol(f.gene5), kb.symbol(f.gene3)))
    return known.iscn if known else None


def breakpoint(ctx: ReportContext, kb: Knowledge, fusion: Json, name: str, end: str, gene: str,
               written: str, assembly: str | None = None) -> Json | None:
    """One locus of the fusion as a Variant: gene, chromosome, assembly, exact position."""
    m = _BREAKPOINT.match(written.strip())
    chromosome = kb.loinc_answers.get(("LL2938-0", f"chromosome {m['chrom']}".casefold())) if m else None
    if m is None or chromosome is None:
        return None
    position = int(m["pos"])
    obs = observation(ctx, ctx.new_id("fusion-breakpoint", fusion["id"], end),
                      codes.PROFILE_VARIANT, loinc(codes.LOINC_VARIANT))
    obs["valueCodeableConcept"] = present(kb)
    comps = [
        gene_component(kb, gene),
        component(loinc(codes.LOINC_VARIATION_CODE),
                  valueCodeableConcept=text_concept(f"{name} fusion {end} breakpoint {written}")),
        component(loinc(codes.LOINC_CHROMOSOME_IDENTIFIER),
                  valueCodeableConcept=concept(chromosome)),
    ]
    assembly = ctx.assembly or assembly  # the conversion's option, else the file's own header
    if assembly and kb.loinc_answers.get(("LL1040-6", assembly.casefold())):
        comps.append(component(loinc(codes.LOINC_REFERENCE_ASSEMBLY),
                               valueCodeableConcept=concept(kb.loinc_answer("LL1040-6", assembly))))
    comps.append(component(loinc(codes.LOINC_EXACT_START_END),
                           valueRange={"low": {"value": position}, "high": {"value": position}}))
    comps.append(origin_component(kb, "somatic"))
    obs["component"] = comps
    return obs


def molecular_consequence(ctx: ReportContext, kb: Knowledge, fusion: Json) -> Json | None:
    """SO:0001886 transcript_fusion in functional-effect, derived from the fusion (IG ROS1-Fusion)."""
    effect = kb.so("transcript_fusion")
    if effect is None:
        return None
    obs = observation(ctx, ctx.new_id("molecular-consequence", fusion["id"]),
                      codes.PROFILE_MOLECULAR_CONSEQUENCE,
                      concept(coding(codes.TBD_CODES, codes.TBD_MOLECULAR_CONSEQUENCE,
                                     "Molecular Consequence")))
    obs["derivedFrom"] = [ref_to(fusion)]
    obs["component"] = [component(
        concept(coding(codes.TBD_CODES, codes.TBD_FUNCTIONAL_EFFECT, "Functional Effect")),
        valueCodeableConcept=concept(effect))]
    return obs
