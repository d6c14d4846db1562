"""The one internal language: what any adapter produces and any FHIR builder consumes.

Adapters (service/allfhir/ingest/) parse a real file format into these models and know nothing of FHIR;
builders (service/allfhir/fhir/) turn them into resources and know nothing of file formats. Labels and
gene symbols are kept exactly as the tool wrote them; `allfhir.knowledge` resolves them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"


class _Model(BaseModel):
    # Unknown keys are an error: a typo in a generic JSON document must not be silently dropped.
    model_config = ConfigDict(extra="forbid", frozen=False)


class SourceRef(_Model):
    """Where a value came from, so a later error (e.g. unknown label) can point at it."""

    file: str | None = None
    row: int | None = Field(default=None, description="1-based line number in the file")
    column: str | None = Field(default=None, description="column / field name as the file has it")


class ClassifierRun(_Model):
    """The classifier that produced the subtype calls (reported as a FHIR Device)."""

    classifier_id: str = Field(description="key of the classifier in mappings/classifier_labels.csv")
    name: str = Field(description="product name as a lab knows it, e.g. 'ALLSorts'")
    version: str | None = None
    source: SourceRef | None = None


class SubtypeCall(_Model):
    """One subtype (or group, or no-call) label given to a sample, with the classifier's support."""

    label: str = Field(description="label exactly as the classifier wrote it")
    label_column: str | None = Field(
        default=None,
        description="crosswalk column the label belongs to (see mappings/classifier_labels.csv)",
    )
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    score_type: Literal["probability", "score", "vote-share", "run-share"] = "probability"
    confidence: str | None = Field(
        default=None, description="the classifier's own confidence label, e.g. 'candidate'"
    )
    called: bool = Field(
        default=True,
        description="False when the classifier itself marks the label as not a call "
        "(e.g. ALLCatchR Confidence 'unclassified')",
    )
    threshold: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="the score a label must exceed to be called, when the classifier applies one "
        "cut-off to every label (MD-ALL GEP methods: run share > 0.5)",
    )
    method: str | None = Field(
        default=None,
        description="the classifier's method when it reports several calls per sample "
        "(e.g. MD-ALL 'SVM' and 'PhenoGraph')",
    )
    lineage: Literal["lymphoid", "multilineage"] | None = Field(
        default=None,
        description="for a Ph call, the lineage involvement the classifier predicts (ALLCatchR "
        "BCR_ABL1_maincluster_pred); decides the ICC 2022 sub-entity",
    )
    source: SourceRef | None = None


class Fusion(_Model):
    """A gene fusion / rearrangement reported by a fusion caller (5' partner :: 3' partner)."""

    gene5: str
    gene3: str
    breakpoint5: str | None = Field(default=None, description="e.g. 'chr22:23290555:+'")
    breakpoint3: str | None = None
    junction_reads: int | None = Field(default=None, ge=0)
    spanning_reads: int | None = Field(default=None, ge=0)
    caller: str | None = None
    confidence: str | None = None
    reading_frame: str | None = None
    iscn: str | None = Field(default=None, description="ISCN description when known, t(9;22)...")
    assembly: str | None = Field(default=None, description="GRCh37 | GRCh38 of the breakpoints, "
                                 "when the file names it (a VCF header)")
    source: SourceRef | None = None


class SequenceVariant(_Model):
    """A small variant with HGVS (from an annotated VCF or the generic JSON)."""

    gene: str
    hgvs_c: str | None = Field(default=None, description="transcript-qualified c. HGVS")
    hgvs_p: str | None = Field(default=None, description="protein-qualified p. HGVS")
    hgvs_g: str | None = Field(default=None, description="genomic g. HGVS")
    transcript: str | None = None
    chromosome: str | None = None
    position: int | None = Field(default=None, ge=1, description="1-based VCF POS")
    ref: str | None = None
    alt: str | None = None
    assembly: str | None = Field(default=None, description="GRCh37 | GRCh38")
    allele_frequency: float | None = Field(default=None, ge=0.0, le=1.0)
    read_depth: int | None = Field(default=None, ge=0, description="total depth at the locus")
    allele_depth: int | None = Field(default=None, ge=0, description="reads supporting the alt")
    consequences: list[str] = Field(
        default_factory=list, description="Sequence Ontology term names"
    )
    origin: Literal["somatic", "germline", "unknown"] = "somatic"
    annotator: str | None = None
    source: SourceRef | None = None


class CopyNumberChange(_Model):
    """A gene-level or arm/chromosome-level gain or loss."""

    change: Literal["gain", "loss", "amplification", "deletion"]
    chromosome: str | None = None
    arm: Literal["p", "q"] | None = None
    gene: str | None = None
    copy_number: float | None = Field(default=None, ge=0)
    uncertain: bool = False
    iscn: str | None = None
    start: int | None = Field(default=None, ge=1, description="first base of the region (1-based)")
    end: int | None = Field(default=None, ge=1, description="last base of the region (1-based)")
    assembly: str | None = Field(default=None, description="GRCh37 / GRCh38 of start and end")
    annotator: str | None = None
    source: SourceRef | None = None


class Ploidy(_Model):
    """Whole-genome copy-number state: modal chromosome number, ISCN, iAMP21 status."""

    chromosome_count: int | None = Field(default=None, ge=1, le=200)
    iscn: str | None = None
    iamp21: bool | None = None
    karyotype_class: Literal["hyperdiploid", "near-haploid", "low-hypodiploid", "high-hypodiploid",
                             "iamp21", "other"] | None = Field(
        default=None,
        description="an RNA-seq karyotype classifier's class (e.g. from RNASeqCNV features)",
    )
    source: SourceRef | None = None


class Sample(_Model):
    """Everything known about one sample; one Sample becomes one genomic report."""

    sample_id: str | None = Field(
        default=None,
        description="None only for companion files (e.g. Arriba) that do not name their sample",
    )
    patient: str | None = Field(
        default=None, description="'Patient/123' or 'system|value' (identifier reference)"
    )
    specimen: str | None = Field(default=None, description="'Specimen/..' or 'system|value'")
    classifier: ClassifierRun | None = None
    calls: list[SubtypeCall] = Field(default_factory=list)
    scores: dict[str, float] = Field(
        default_factory=dict,
        description="every label's score as the classifier reported it (label -> value)",
    )
    fusions: list[Fusion] = Field(default_factory=list)
    variants: list[SequenceVariant] = Field(default_factory=list)
    copy_numbers: list[CopyNumberChange] = Field(default_factory=list)
    ploidy: Ploidy | None = None
    comments: list[str] = Field(default_factory=list)
    source_files: list[str] = Field(default_factory=list)
    source: SourceRef | None = None

    def findings(self) -> list[Finding]:
        """Every finding of the sample, in report order: fusions, variants, copy numbers, ploidy."""
        out: list[Finding] = [*self.fusions, *self.variants, *self.copy_numbers]
        if self.ploidy:
            out.append(self.ploidy)
        return out


# What a subtype can be defined by, and a recommendation can rest on.
Finding = Fusion | SequenceVariant | CopyNumberChange | Ploidy
