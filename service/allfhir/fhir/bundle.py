"""One sample -> one Bundle (collection by default, transaction on request).

Order: the DiagnosticReport first, then its results, then shared resources (the classifier
Device). In a transaction every entry is a conditional create on its stable identifier, the
report on its report identifier, so delivering the same report twice creates nothing new.
The Bundle is built from parts worked out once (codes, components, sentences per subtype and rule:
allfhir.worked) that every report shares. It leaves this module either as a dict that shares none
of them (`build`: the caller may change it) or as its JSON text (`build_json`: nothing to change,
so no copy to make).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal, ParamSpec, TypeVar

from .. import integrate
from ..actionability import Assessment
from ..integrate import IntegratedCall
from ..jsonout import detached, dumps_bytes, plain_floats, vouch
from ..knowledge import Knowledge
from ..model import Sample
from ..resolve import ResolvedSample
from . import cytogenomic, fusion, report, subtype, therapy, variant
from .common import IdLog, IdSystems, Json, ReportContext, identifier_ref, order_ref, ref_to

if TYPE_CHECKING:  # the pipeline never reads settings itself: its callers pass them
    from ..settings import Settings

BundleType = Literal["collection", "transaction"]


@dataclass(frozen=True, slots=True)
class BuildOptions:
    bundle_type: BundleType = "collection"
    patient: str | None = None  # 'Patient/123' or 'system|value'; the sample's own wins if set
    effective: str | None = None  # dateTime of the results; omitted when unknown (determinism)
    actionability: bool = True  # therapeutic implications, trials and recommendation Tasks
    assembly: str | None = None  # GRCh37 | GRCh38 of fusion breakpoints; omitted when not given
    # A discordant or dual-driver call keeps the report preliminary until a haematopathologist
    # has reviewed the case; the caller says so (`--reviewed`).
    reviewed: bool = False
    # 'Specimen/123' or 'system|value'; the sample's own specimen wins if the input names one
    specimen: str | None = None
    # the order's identifier ('system|value', or a value in the lab's order system): basedOn
    order: str | None = None
    systems: IdSystems = field(default_factory=IdSystems)  # the lab's (settings)


def id_systems(settings: Settings) -> IdSystems:
    """The lab's identifier systems as the CLI and the service configure them."""
    return IdSystems(sample=settings.sample_id_system, report=settings.report_id_system,
                     resource=settings.resource_id_system, order=settings.order_id_system)


def report_key(rs: ResolvedSample) -> str:
    s = rs.sample
    classifier = s.classifier.classifier_id if s.classifier else "findings"
    return f"{classifier}:{s.sample_id}"


def judged_on(opts: BuildOptions) -> date | None:
    """The date trial statuses are judged at: the results' date when given (a dateTime known to
    the year or month only: its first day)."""
    if not opts.effective:
        return None
    year, month, day = ([*map(int, opts.effective[:10].split("-")), 1, 1])[:3]
    return date(year, month, day)


P = ParamSpec("P")
R = TypeVar("R")


def _collector_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` with the cyclic garbage collector paused. A Bundle is a tree of dicts and lists (no
    cycles: reference counting frees it), but while a large one grows (a VCF of thousands of
    variants) its containers set off full collections that walk all of it again each time: half
    the CPU of such a conversion. The collector is left as it was found (paused already: left
    paused), so concurrent builds in threads at worst run one collection later."""

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@_collector_paused
def build(rs: ResolvedSample, kb: Knowledge, opts: BuildOptions,
          assessment: Assessment | None = None,
          integrated: list[IntegratedCall] | None = None) -> Json:
    """The report Bundle; `assessment` is what actionability found (None: not assessed),
    `integrated` the integrated calls (entity and call basis) of the sample's calls."""
    # Reports share the parts worked out once (worked.py); the Bundle handed out shares none of
    # them, so whoever changes it (a test, a caller adding meta or a PDF) changes no other report.
    out, plain = _shared(rs, kb, opts, assessment, integrated)
    return detached(out, plain)


@_collector_paused
def build_json(rs: ResolvedSample, kb: Knowledge, opts: BuildOptions,
               assessment: Assessment | None = None,
               integrated: list[IntegratedCall] | None = None) -> bytes:
    """`build`'s Bundle as the JSON text `jsonout.dumps_bytes` writes of it: for a caller that
    only writes it (the CLI's NDJSON), without the copy `build` makes (a third of the cost)."""
    out, plain = _shared(rs, kb, opts, assessment, integrated)
    return dumps_bytes(vouch(out) if plain else out)


@_collector_paused
def build_traced(rs: ResolvedSample, kb: Knowledge, opts: BuildOptions,
                 assessment: Assessment | None, integrated: list[IntegratedCall] | None,
                 ids: IdLog) -> Json:
    """The Bundle as built, sharing the parts worked out once with other reports, the ids it gave
    out logged in `ids`: for fhir/templates, which writes it and changes nothing of it but its
    own report's presentedForm."""
    return _shared(rs, kb, opts, assessment, integrated, ids)[0]


def _shared(rs: ResolvedSample, kb: Knowledge, opts: BuildOptions, assessment: Assessment | None,
            integrated: list[IntegratedCall] | None, ids: IdLog | None = None) -> tuple[Json, bool]:
    """The Bundle as built, sharing the parts worked out once with other reports (never handed
    out as it is), and whether orjson writes its every float as the stdlib does (`plain_floats`)."""
    s = rs.sample
    patient = s.patient or opts.patient
    specimen = s.specimen or opts.specimen
    ctx = ReportContext(
        key=report_key(rs),
        subject=identifier_ref(patient, opts.systems.sample) if patient else None,
        specimen=(identifier_ref(specimen, opts.systems.sample) if specimen else
                  {"identifier": {"system": opts.systems.sample, "value": s.sample_id},
                   "display": f"sample {s.sample_id}"}),
        based_on=order_ref(opts.order, opts.systems.order) if opts.order else None,
        effective=opts.effective,
        assembly=opts.assembly,
        systems=opts.systems,
        ids=ids,
    )
    dev = subtype.device(s.classifier) if s.classifier else None
    if dev:
        ctx.device_ref = {"reference": f"urn:uuid:{dev['id']}"}
    rows: list[tuple[str, str]] = []

    built: list[subtype.BuiltFinding] = []
    for f in s.fusions:
        built.append(subtype.BuiltFinding(f, ctx.add(fusion.build(ctx, kb, f))))
        rows.append(("Fusion", f"{kb.fusion_name(f)}" + _reads(f.junction_reads, f.spanning_reads)))
    for v in s.variants:
        built.append(subtype.BuiltFinding(v, ctx.add(variant.build(ctx, kb, v))))
        af = f" (VAF {v.allele_frequency:g})" if v.allele_frequency is not None else ""
        rows.append(("Sequence variant", variant.variant_label(v) + af))
    for c in s.copy_numbers:
        built.append(subtype.BuiltFinding(c, ctx.add(cytogenomic.build_copy_number(ctx, kb, c))))
        rows.append(("Copy number", cytogenomic.change_label(c)))
    if s.ploidy and (s.ploidy.chromosome_count is not None or s.ploidy.iscn):
        built.append(subtype.BuiltFinding(s.ploidy, ctx.add(cytogenomic.build_ploidy(ctx, kb, s.ploidy))))
        rows.append(("Chromosome number", s.ploidy.iscn or str(s.ploidy.chromosome_count)))
    if s.ploidy and s.ploidy.iamp21:
        built.append(subtype.BuiltFinding(s.ploidy, ctx.add(cytogenomic.build_iamp21(ctx, kb, s.ploidy))))
        rows.append(("Copy number", "iAMP21"))

    classifier = _classifier_label(s)
    sentences = []
    integrated = integrated or []
    by_call = {id(ic.call.call): ic for ic in integrated
               if ic.call is not None and ic.call.reported.kind != "no-call"}
    # expression call -> (biomarker, diagnostic implication)
    call_refs: dict[int, tuple[Json, Json]] = {}
    review: list[tuple[IntegratedCall, Json]] = []
    for rc in rs.calls:
        ic = by_call.get(id(rc.call))
        text = subtype.sentence(kb, rc, ic, classifier)
        biomarker, implication = subtype.build(ctx, kb, rc, classifier, built, ic, s.scores, text)
        call_refs[id(rc.call)] = (ref_to(biomarker), ref_to(implication))
        sentences.append(text)
        if ic and ic.needs_review:
            review.append((ic, implication))
    for ic in integrated:
        if ic.call is None or ic.call.reported.kind == "no-call":
            text = integrate.sentence(kb, ic, classifier)
            implication = subtype.driver_implication(ctx, kb, ic, classifier, built, text)
            sentences.append(text)
            if ic.needs_review:
                review.append((ic, implication))
    rows[:0] = [("Subtype", sentence) for sentence in sentences]
    for comment in s.comments:
        rows.append(("Comment", comment))

    shared = [dev] if dev else []
    actions: list[Json] = [ctx.add(therapy.review_task(ctx, ic, ref_to(imp))) for ic, imp in review]
    summary = ""
    if assessment is not None:
        more, summary = _actionability(ctx, kb, assessment, built, call_refs, shared, rows,
                                          judged_on(opts) or kb.as_of)
        actions += more

    conclusion = _conclusion(rs, sentences, built) + summary
    title = f"BCP-ALL molecular subtype report - sample {s.sample_id}"
    results = [r for r in ctx.entries if r["resourceType"] == "Observation"]
    rep = report.build(ctx, results, conclusion, rows, title, actions)
    if review and not opts.reviewed:
        rep["status"] = "preliminary"
    resources = [rep, *ctx.entries, *shared]
    out = assemble(resources, opts.bundle_type, bundle_id=ctx.new_id("bundle"))
    # The builders write no number of their own: every float of the Bundle is one of the sample's.
    return out, plain_floats(_floats(s))


def _floats(s: Sample) -> list[float | None]:
    """Every float of the sample (None where a value is missing)."""
    out: list[float | None] = [*s.scores.values()]
    for call in s.calls:
        out += (call.probability, call.threshold)
    out += [v.allele_frequency for v in s.variants]
    out += [c.copy_number for c in s.copy_numbers]
    return out


def _actionability(ctx: ReportContext, kb: Knowledge, assessment: Assessment,
                   built: list[subtype.BuiltFinding], call_refs: dict[int, tuple[Json, Json]],
                   shared: list[Json], rows: list[tuple[str, str]], on: date) -> tuple[list[Json], str]:
    """Therapeutic implications, trials, follow-ups and Tasks; returns the Task refs (for the
    report's recommended-action) and the conclusion's sentences."""
    finding_refs = {id(b.finding): b.ref for b in built}
    studies: dict[str, Json] = {}
    actions: list[Json] = []
    for rec in assessment.recommendations:
        # The IG points a therapeutic implication at what supports it: the findings, and for a
        # subtype call the expression signature (never our own diagnostic implication).
        basis = [finding_refs[id(f)] for f in rec.basis.findings if id(f) in finding_refs]
        basis += [call_refs[id(c.call)][0] for c in rec.basis.calls]
        study_ref = None
        if rec.trial:
            nct = rec.trial.trial.nct_id
            if nct not in studies:
                study = therapy.research_study(rec.trial.trial, on)
                shared.append(study)
                studies[nct] = ref_to(study)
            study_ref = studies[nct]
        obs = therapy.implication(ctx, kb, rec, basis, study_ref)
        if rec.trial and study_ref:
            actions.append(ctx.add(therapy.trial_task(ctx, rec, ref_to(obs), study_ref)))
        elif rec.medication_task:
            statement, task = therapy.medication_task(ctx, kb, rec, ref_to(obs))
            ctx.add(statement)
            actions.append(ctx.add(task))
        rows.append(("Actionability", therapy.sentence(rec)))
    for fu in assessment.followups:
        actions.append(ctx.add(therapy.followup_task(ctx, kb, fu, call_refs[id(fu.call.call)][1])))
        rows.append(("Follow-up", therapy.followup_sentence(fu)))
    for fit in assessment.listed_trials:
        rows.append(("Trial (evidence only)", f"{fit.trial.nct_id}: {'; '.join(fit.reasons)}"))
    if not assessment:
        rows.append(("Actionability", "no actionable finding in the allfhir knowledge base"))
    return actions, therapy.conclusion(assessment)


def _classifier_label(s) -> str:  # type: ignore[no-untyped-def]
    if not s.classifier:
        return "Submitted findings"
    return f"{s.classifier.name} {s.classifier.version}" if s.classifier.version else s.classifier.name


def _reads(junction: int | None, spanning: int | None) -> str:
    parts = []
    if junction is not None:
        parts.append(f"{junction} junction reads")
    if spanning is not None:
        parts.append(f"{spanning} spanning fragments")
    return f" ({', '.join(parts)})" if parts else ""


def _conclusion(rs: ResolvedSample, sentences: list[str], built: list[subtype.BuiltFinding]) -> str:
    parts = list(sentences) if sentences else ["No subtype call was submitted."]
    if built:
        parts.append(f"{len(built)} molecular finding(s) reported.")
    return " ".join(p if p.endswith(".") else p + "." for p in parts)


def assemble(resources: list[Json], bundle_type: BundleType, bundle_id: str) -> Json:
    entries = []
    for res in resources:
        entry: Json = {"fullUrl": f"urn:uuid:{res['id']}", "resource": res}
        if bundle_type == "transaction":
            entry["request"] = _conditional_create(res)
        entries.append(entry)
    return {"resourceType": "Bundle", "id": bundle_id, "type": bundle_type, "entry": entries}


def _conditional_create(res: Json) -> Json:
    ident = res["identifier"][0]
    return {
        "method": "POST",
        "url": res["resourceType"],
        "ifNoneExist": f"identifier={ident['system']}|{ident['value']}",
    }
