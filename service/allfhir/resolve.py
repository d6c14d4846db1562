"""The knowledge step of the pipeline: classifier labels -> subtypes, gene symbols -> HGNC.

Anything the knowledge base does not know is an InputError pointing at the file, line and column
the value came from: an unknown label is never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from .errors import InputError, Problem
from .knowledge import Knowledge, Subtype
from .model import CopyNumberChange, Fusion, Sample, SequenceVariant, SourceRef, SubtypeCall


@dataclass(frozen=True, slots=True)
class ResolvedCall:
    call: SubtypeCall
    subtype: Subtype  # what the classifier's label means
    reported: Subtype  # what the report states: 'unclassified' when the classifier disowns it


@dataclass(frozen=True, slots=True)
class ResolvedSample:
    sample: Sample
    calls: tuple[ResolvedCall, ...]


UNCLASSIFIED = "unclassified"


def resolve(sample: Sample, kb: Knowledge) -> ResolvedSample:
    problems: list[Problem] = []
    calls: list[ResolvedCall] = []
    classifier = sample.classifier.classifier_id if sample.classifier else "generic"
    name = sample.classifier.name if sample.classifier else "generic"
    for call in sample.calls:
        subtype = kb.resolve_label(classifier, call.label_column, call.label)
        if subtype is None:
            known = kb.known_labels(classifier, call.label_column)
            problems.append(_problem(
                call.source,
                f"unknown {name} label '{call.label}'"
                + (f"; known labels: {', '.join(known)}" if known else ""),
                code="code-invalid",
            ))
            continue
        reported = subtype if call.called else kb.subtypes[UNCLASSIFIED]
        calls.append(ResolvedCall(call, subtype, reported))
    sample = _without_unnamed_partners(sample, kb)
    sample = _without_unnamed_genes(sample, kb)
    for f in sample.fusions:
        for symbol in (f.gene5, f.gene3):
            _check_gene(kb, symbol, f.source, problems)
    for v in sample.variants:
        _check_gene(kb, v.gene, v.source, problems)
    for c in sample.copy_numbers:
        if c.gene:
            _check_gene(kb, c.gene, c.source, problems)
    if problems:
        raise InputError(problems)
    return ResolvedSample(sample, tuple(calls))


def _without_unnamed_partners(sample: Sample, kb: Knowledge) -> Sample:
    """Fusion callers name unannotated transcripts by clone or Ensembl id (AC092490.2), which no
    HGNC symbol covers; such a machine-written candidate cannot become a gene-coded Variant. It is
    listed in the report's comments (file and line) instead of failing the whole report. Fusions a
    person typed (generic JSON, caller unset) still fail on an unknown symbol: that is a typo."""
    kept: list[Fusion] = []
    notes: list[str] = []
    for f in sample.fusions:
        unknown = [g for g in (f.gene5, f.gene3) if kb.gene(g) is None]
        if f.caller and unknown:
            notes.append(f"{f.caller} candidate {f.gene5}::{f.gene3}{_where(f.source)} not reported: "
                         f"{', '.join(repr(g) for g in unknown)} is not an HGNC gene symbol")
        else:
            kept.append(f)
    if not notes:
        return sample
    return sample.model_copy(update={"fusions": kept, "comments": [*sample.comments, *notes]})


def _without_unnamed_genes(sample: Sample, kb: Knowledge) -> Sample:
    """The same for annotated VCF records: VEP and SnpEff name lncRNAs and unannotated genes by
    clone or Ensembl id (AC135721.2). Variants typed into the generic JSON (no annotator) still
    fail on an unknown symbol."""
    kept: list[SequenceVariant] = []
    notes: list[str] = []
    for v in sample.variants:
        if v.annotator and kb.gene(v.gene) is None:
            what = v.hgvs_c or v.hgvs_g or f"{v.chromosome}:{v.position} {v.ref}>{v.alt}"
            notes.append(f"{v.annotator} variant {what}{_where(v.source)} not reported: "
                         f"'{v.gene}' is not an HGNC gene symbol")
        else:
            kept.append(v)
    cnvs: list[CopyNumberChange] = []
    for c in sample.copy_numbers:
        if c.annotator and c.gene and kb.gene(c.gene) is None:
            notes.append(f"{c.annotator} copy-number {c.change} {c.chromosome}:{c.start}-{c.end}"
                         f"{_where(c.source)} not reported for '{c.gene}': it is not an HGNC gene symbol")
        else:
            cnvs.append(c)
    if not notes:
        return sample
    return sample.model_copy(update={"variants": kept, "copy_numbers": cnvs,
                                     "comments": [*sample.comments, *notes]})


def _where(source: SourceRef | None) -> str:
    # The file's name, not its path: the comment travels in the report to the EHR.
    if source and source.file and source.row:
        return f" ({PurePath(source.file).name}, line {source.row})"
    return ""


def _check_gene(kb: Knowledge, symbol: str, source: SourceRef | None, out: list[Problem]) -> None:
    if kb.gene(symbol) is None:
        out.append(_problem(source, f"unknown gene symbol '{symbol}' (not an HGNC approved, "
                                    "previous or alias symbol)", code="code-invalid"))


def _problem(source: SourceRef | None, message: str, code: str) -> Problem:
    if source is None:
        return Problem(message, code=code)
    return Problem(message, file=source.file, row=source.row, column=source.column, code=code)
