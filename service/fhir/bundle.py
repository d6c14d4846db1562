"""One sample -> one Bundle (collection by default, transaction on request).

Order: the DiagnosticReport first, then its results, then shared resources (the classifier
Device). In a transaction every entry is a conditional create on its stable identifier, the
report on its report identifier, so delivering the same report twice creates nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .. import codes
from ..actionability import recommendations
from ..knowledge import Knowledge
from ..resolve import ResolvedSample
from . import cytogenomic, fusion, report, subtype, therapy, variant
from .common import Json, ReportContext, identifier_ref, ref_to

BundleType = Literal["collection", "transaction"]


@dataclass(frozen=True, slots=True)
class BuildOptions:
    bundle_type: BundleType = "collection"
    patient: str | None = None  # 'Patient/123' or 'system|value'; the sample's own wins if set
    effective: str | None = None  # dateTime of the results; omitted when unknown (determinism)
    actionability: bool = True  # therapeutic implications, trials and recommendation Tasks
    assembly: str | None = None  # GRCh37 | GRCh38 of fusion breakpoints; omitted when not given


def report_key(rs: ResolvedSample) -> str:
    s = rs.sample
    classifier = s.classifier.classifier_id if s.classifier else "findings"
    return f"{classifier}:{s.sample_id}"


def build(rs: ResolvedSample, kb: Knowledge, opts: BuildOptions) -> Json:
    s = rs.sample
    patient = s.patient or opts.patient
    ctx = ReportContext(
        key=report_key(rs),
        subject=identifier_ref(patient, codes.NS_SAMPLE_ID) if patient else None,
        specimen=(identifier_ref(s.specimen, codes.NS_SAMPLE_ID) if s.specimen else
                  {"identifier": {"system": codes.NS_SAMPLE_ID, "value": s.sample_id},
                   "display": f"sample {s.sample_id}"}),
        effective=opts.effective,
        assembly=opts.assembly,
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
    implication_refs: dict[int, Json] = {}
    for rc in rs.calls:
        _, implication = subtype.build(ctx, kb, rc, classifier, built)
        implication_refs[id(rc)] = ref_to(implication)
        sentence = subtype.call_sentence(rc, classifier)
        sentences.append(sentence)
        rows.insert(len(sentences) - 1, ("Subtype", sentence))
    for comment in s.comments:
        rows.append(("Comment", comment))

    shared = [dev] if dev else []
    actions: list[Json] = []
    summary = ""
    if opts.actionability:
        actions, summary = _actionability(ctx, kb, rs, built, implication_refs, shared, rows)

    conclusion = _conclusion(rs, sentences, built) + summary
    title = f"BCP-ALL molecular subtype report - sample {s.sample_id}"
    results = [r for r in ctx.entries if r["resourceType"] == "Observation"]
    rep = report.build(ctx, results, conclusion, rows, title)
    if actions:
        rep["extension"] = [{"url": codes.EXT_RECOMMENDED_ACTION, "valueReference": a}
                            for a in actions]
        # FHIR JSON puts extension right after text; keep the resource's key order canonical.
        rep = {k: rep[k] for k in ("resourceType", "id", "meta", "text", "extension")} | rep
    resources = [rep, *ctx.entries, *shared]
    return assemble(resources, opts.bundle_type, bundle_id=ctx.new_id("bundle"))


def _actionability(ctx: ReportContext, kb: Knowledge, rs: ResolvedSample,
                   built: list[subtype.BuiltFinding], implication_refs: dict[int, Json],
                   shared: list[Json], rows: list[tuple[str, str]]) -> tuple[list[Json], str]:
    """Therapeutic implications + trials + Tasks; returns Task refs and the conclusion text."""
    recs = recommendations(rs, kb)
    if not recs:
        rows.append(("Actionability", "no actionable finding in the allfhir knowledge base"))
        return [], " No actionable finding: no agent or clinical trial in the allfhir knowledge " \
                   "base applies to these results."
    finding_refs = {id(b.finding): b.ref for b in built}
    studies: dict[str, Json] = {}
    actions = []
    for rec in recs:
        basis = [implication_refs[id(c)] for c in rec.basis.calls]
        basis += [finding_refs[id(f)] for f in rec.basis.findings if id(f) in finding_refs]
        study_ref = None
        if rec.trial:
            if rec.trial.nct_id not in studies:
                study, studies[rec.trial.nct_id] = therapy.study_entry(rec.trial)
                shared.append(study)
            study_ref = studies[rec.trial.nct_id]
        obs = therapy.build(ctx, kb, rec, basis, study_ref)
        actions.append(ref_to(therapy.task(ctx, rec, ref_to(obs), study_ref)))
        rows.append(("Actionability", therapy.sentence(rec)))
    agents = sorted({r.agent.name for r in recs if r.agent})
    trials = sorted({r.trial.nct_id for r in recs if r.trial})
    text = ""
    if agents:
        text += f" Agents to consider: {', '.join(agents)}."
    if trials:
        text += f" Clinical trials: {', '.join(trials)}."
    return actions, text


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
