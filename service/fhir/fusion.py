"""Gene fusions -> IG Variant Observations (both genes studied, SO gene_fusion, breakpoints).

The IG models structural variants with the Variant profile; its own ROS1 fusion example
(input/fsh/examples/somaticReportPDFexamples.fsh) uses variation-code text and gene-studied, and
its genomic-study example codes fusions as SO:0001565 gene_fusion. Breakpoints of a two-locus
event and the caller's read support have no IG slot: they go in components coded in our
CodeSystem (the component slicing is open), total support in allelic-read-depth.
"""

from __future__ import annotations

from .. import codes
from ..knowledge import Knowledge
from ..model import Fusion
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


def build(ctx: ReportContext, kb: Knowledge, f: Fusion) -> Json:
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
    if f.iscn:
        comps.append(component(loinc(codes.LOINC_CYTOGENOMIC_NOMENCLATURE),
                               valueCodeableConcept=text_concept(f.iscn)))
    comps.append(origin_component(kb, "somatic"))
    support = (f.junction_reads or 0) + (f.spanning_reads or 0)
    if f.junction_reads is not None or f.spanning_reads is not None:
        comps.append(component(loinc(codes.LOINC_ALLELIC_READ_DEPTH),
                               valueQuantity=unit_quantity(support)))
    if f.breakpoint5:
        comps.append(component(allfhir_code(codes.C_BREAKPOINT_5), valueString=f.breakpoint5))
    if f.breakpoint3:
        comps.append(component(allfhir_code(codes.C_BREAKPOINT_3), valueString=f.breakpoint3))
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
    if f.caller:
        obs["note"] = [{"text": f"called by {f.caller}"}]
    return obs
