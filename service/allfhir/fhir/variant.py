"""Sequence variants -> IG Variant Observations (HGVS-coded, gene studied, AF, depth, origin)."""

from __future__ import annotations

from .. import codes
from ..knowledge import Knowledge
from ..model import SequenceVariant
from .common import (
    Json,
    ReportContext,
    coding,
    component,
    concept,
    loinc,
    observation,
    text_concept,
)

_ORIGIN_DISPLAY = {"somatic": "Somatic", "germline": "Germline", "unknown": "Unknown genomic origin"}


def dna_change_type(ref: str | None, alt: str | None) -> str | None:
    """SO name of the DNA change (the IG's coding-change-type) from VCF-normalised alleles."""
    if not ref or not alt or not ref.isalpha() or not alt.isalpha():
        return None
    if len(ref) == len(alt):
        return "SNV" if len(ref) == 1 else "MNV"
    if len(alt) < len(ref) and ref.startswith(alt):
        return "deletion"
    if len(alt) > len(ref) and alt.startswith(ref):
        return "insertion"
    return "delins"


def present(kb: Knowledge) -> Json:
    return concept(kb.loinc_answer("LL1971-2", "Present"))


def gene_component(kb: Knowledge, symbol: str) -> Json:
    gene = kb.gene(symbol)
    if gene is None:  # resolve_sample() rejects unknown genes before any builder runs
        raise KeyError(symbol)
    return component(loinc(codes.LOINC_GENE_STUDIED),
                     valueCodeableConcept=concept(gene.coding))


def origin_component(kb: Knowledge, origin: str) -> Json:
    return component(loinc(codes.LOINC_GENOMIC_SOURCE_CLASS),
                     valueCodeableConcept=concept(kb.loinc_answer("LL378-1", _ORIGIN_DISPLAY[origin])))


def hgvs_concept(expression: str) -> Json:
    return concept(coding(codes.HGVS, expression, expression))


def variant_label(v: SequenceVariant) -> str:
    change = v.hgvs_p or v.hgvs_c or v.hgvs_g or f"{v.chromosome}:{v.position}{v.ref}>{v.alt}"
    return f"{v.gene} {change.split(':', 1)[-1]}"


def build(ctx: ReportContext, kb: Knowledge, v: SequenceVariant) -> Json:
    key = v.hgvs_g or v.hgvs_c or v.hgvs_p or f"{v.chromosome}:{v.position}:{v.ref}:{v.alt}"
    obs = observation(ctx, ctx.new_id("variant", v.gene, key), codes.PROFILE_VARIANT,
                      loinc(codes.LOINC_VARIANT))
    obs["valueCodeableConcept"] = present(kb)
    comps = [gene_component(kb, v.gene)]
    if v.hgvs_c and ":" in v.hgvs_c:
        comps.append(component(loinc(codes.LOINC_CODING_HGVS),
                               valueCodeableConcept=hgvs_concept(v.hgvs_c)))
    if v.hgvs_p:
        # An HGVS expression needs its reference sequence; an unqualified "p.Pro80Arg" (MD-ALL,
        # SnpEff) is kept as text so nothing is lost, without claiming it is a full HGVS code.
        value = hgvs_concept(v.hgvs_p) if ":" in v.hgvs_p else text_concept(v.hgvs_p)
        comps.append(component(loinc(codes.LOINC_PROTEIN_HGVS),
                               valueCodeableConcept=value))
    if v.hgvs_g:
        comps.append(component(loinc(codes.LOINC_GENOMIC_HGVS),
                               valueCodeableConcept=hgvs_concept(v.hgvs_g)))
    if v.transcript:
        comps.append(component(loinc(codes.LOINC_TRANSCRIPT_REF_SEQ),
                               valueCodeableConcept=concept(
                                   coding(_refseq_system(v.transcript), v.transcript))))
    change = dna_change_type(v.ref, v.alt)
    so = kb.so(change) if change else None
    if so:
        comps.append(component(loinc(codes.LOINC_CODING_CHANGE_TYPE),
                               valueCodeableConcept=concept(so)))
    if v.ref is not None and v.alt is not None:
        comps.append(component(loinc(codes.LOINC_REF_ALLELE),
                               valueString=v.ref))
        comps.append(component(loinc(codes.LOINC_ALT_ALLELE),
                               valueString=v.alt))
    comps.append(origin_component(kb, v.origin))
    if v.allele_frequency is not None:
        comps.append(component(loinc(codes.LOINC_ALLELE_FREQUENCY),
                               valueQuantity={"value": v.allele_frequency, "system": codes.UCUM,
                                              "code": "1"}))
    if v.allele_depth is not None:
        comps.append(component(loinc(codes.LOINC_ALLELIC_READ_DEPTH),
                               valueQuantity={"value": v.allele_depth, "system": codes.UCUM,
                                              "code": "1"}))
    obs["component"] = comps
    if v.read_depth is not None or v.annotator:
        notes = []
        if v.read_depth is not None:
            notes.append(f"total read depth {v.read_depth}")
        if v.annotator:
            notes.append(f"annotated by {v.annotator}")
        obs["note"] = [{"text": "; ".join(notes)}]
    return obs


def _refseq_system(accession: str) -> str:
    # RefSeq (NM_/NR_) vs Ensembl (ENST): the IG's example binding accepts both sources.
    if accession.startswith("ENS"):
        return "http://www.ensembl.org"
    return "http://www.ncbi.nlm.nih.gov/refseq"
