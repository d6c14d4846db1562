"""Which agents, trials and follow-up tests apply to a resolved sample, with which evidence.

The policy a clinician audits is `mappings/ACTIONABILITY.md`; this module only evaluates the data:
- A rule targets a subtype (it applies when the sample is called that subtype, or called a group
  holding it and a finding defines the member) or an alteration (a finding meets every condition
  of the alteration row: gene, fusion orientation and frame, variant origin and consequence, the
  subtype context).
- A subtype whose call needs a confirmatory finding (`confirmations.csv`, e.g. BCR::ABL1 for Ph)
  and has none in the sample gets no therapy at all: it gets a follow-up test that names what
  becomes applicable once the finding is positive.
- The evidence level decides the answer code, whether a medication Task may exist and the wording
  (`evidence_policy.csv`); a trial is offered only when its registry record fits, otherwise it is
  listed as evidence.
Phenotype-only rules (CD19-positive disease, ...) cannot be decided from molecular data and are
never applied; `allfhir knowledge show` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .knowledge import (
    Agent,
    Alteration,
    Confirmation,
    EvidencePolicy,
    Finding,
    Knowledge,
    Rule,
    Subtype,
    Trial,
)
from .model import Fusion, Sample, SequenceVariant
from .resolve import ResolvedCall, ResolvedSample
from .worked import Worked

# Evidence levels of the AMP/ASCO/CAP 2017 scale, strongest first (see mappings/ACTIONABILITY.md).
LEVEL_ORDER = ("A", "B", "C", "D")
# Registry statuses under which a trial enrols; anything else is evidence, not an opportunity.
OPEN_STATUSES = frozenset({"recruiting", "not yet recruiting"})
# A status read longer ago than this is shown as "last verified", never as current.
STATUS_FRESH_DAYS = 365
# Trial populations that include BCP-ALL (trials.csv `diseases`).
BCP_ALL_DISEASES = frozenset({"B-ALL", "ALL"})

# How fusion callers word the reading frame (Arriba reading_frame, STAR-Fusion PROT_FUSION_TYPE,
# FusionCatcher Predicted_effect), folded to three classes. A stop codon before the kinase
# breakpoint gives no kinase either, so it counts as out of frame.
_FRAME_WORDS = {
    "inframe": "in-frame",
    "outofframe": "out-of-frame",
    "frameshift": "out-of-frame",
    "stopcodon": "out-of-frame",
}


@dataclass(slots=True)
class Basis:
    """What a recommendation rests on: subtype calls and/or findings (for derivedFrom)."""

    calls: list[ResolvedCall] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class TrialFit:
    """Whether a trial's registry record makes it an enrolment opportunity, and why not."""

    trial: Trial
    offered: bool
    reasons: list[str]
    status_text: str  # "recruiting as of 2026-05-01" / "status last verified 2020-09-01: ..."


@dataclass(slots=True)
class Recommendation:
    agent: Agent | None
    trial: TrialFit | None  # set for an offered trial (implication eligible-for-trial)
    implication: str
    context: Subtype | None  # the BCP-ALL subtype that is the treatment context
    rules: list[Rule]
    basis: Basis
    policy: EvidencePolicy
    medication_task: bool = False
    evidence_trials: list[TrialFit] = field(default_factory=list)  # listed as evidence only

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.agent.id if self.agent else "", self.trial.trial.nct_id if self.trial else "",
                self.implication)

    @property
    def best_level(self) -> str:
        return best_level(self.rules)


@dataclass(slots=True)
class FollowUp:
    """A confirmatory test the sample needs before the rules it names can apply."""

    confirmation: Confirmation
    call: ResolvedCall
    unlocks: list[Rule]  # rules applicable once the test is positive
    agents: dict[str, Agent]  # the unlocked rules' agents, by id (what the sentence names)


@dataclass(slots=True)
class Assessment:
    recommendations: list[Recommendation] = field(default_factory=list)
    followups: list[FollowUp] = field(default_factory=list)
    listed_trials: list[TrialFit] = field(default_factory=list)  # evidence, not opportunities

    def __bool__(self) -> bool:
        return bool(self.recommendations or self.followups or self.listed_trials)


def best_level(rules: list[Rule]) -> str:
    return min((r.evidence_level for r in rules),
               key=lambda lv: LEVEL_ORDER.index(lv) if lv in LEVEL_ORDER else len(LEVEL_ORDER))


def called(rs: ResolvedSample) -> list[ResolvedCall]:
    """Calls that state a subtype (not 'unclassified', not disowned by the classifier)."""
    return [c for c in rs.calls if c.reported.kind != "no-call"]


def assess(rs: ResolvedSample, kb: Knowledge, on: date | None = None) -> Assessment:
    """Everything actionable about one sample. `on` is the date trial statuses are judged at
    (the report's date; by default the knowledge base's review date, so output is reproducible)."""
    on = on or kb.as_of
    calls = called(rs)
    out = Assessment()
    applied: list[tuple[Rule, Basis, Subtype | None]] = []
    for call in calls:
        applied += _call_rules(call, rs.sample, kb, out)
    # Alterations are met by fusions and variants only (matching_findings): without either, none.
    targets = _alteration_rules(kb) if rs.sample.fusions or rs.sample.variants else ()
    for alteration, rules in targets:
        found = matching_findings(kb, alteration, rs.sample, calls)
        if not found:
            continue
        context = _context_call(alteration, calls)
        basis = Basis(calls=[context] if context else [], findings=found)
        ctx = context.reported if context else (calls[0].reported if calls else None)
        applied += [(rule, basis, ctx) for rule in rules]
    _merge(applied, kb, on, out)
    return out


_alteration_rules_worked: Worked[tuple[tuple[Alteration, tuple[Rule, ...]], ...]] = Worked()
_unlocks_worked: Worked[tuple[Rule, ...]] = Worked()
_trial_fits_worked: Worked[tuple[bool, tuple[str, ...], str]] = Worked()


def _alteration_rules(kb: Knowledge) -> tuple[tuple[Alteration, tuple[Rule, ...]], ...]:
    """The alterations that have rules (phenotypes apart), with their rules, in knowledge order."""
    key = (id(kb.alterations), id(kb.rules_by_target))
    found = _alteration_rules_worked.get(key)
    if found is None:
        found = _alteration_rules_worked.put(key, (kb.alterations, kb.rules_by_target), tuple(
            (a, rules) for a in kb.alterations.values()
            if (rules := kb.rules_by_target.get(("alteration", a.id), ())) and a.kind != "phenotype"))
    return found


# --- subtype rules and confirmations ------------------------------------------------------------

def _call_rules(call: ResolvedCall, sample: Sample, kb: Knowledge,
                out: Assessment) -> list[tuple[Rule, Basis, Subtype | None]]:
    st = call.reported
    conf = kb.confirmations.get(st.id)
    confirming = confirming_findings(kb, conf, st, sample) if conf else []
    if conf and not confirming:
        unlocks = list(_unlocks(kb, conf, st))
        agents = {r.agent: kb.agents[r.agent] for r in unlocks if r.agent}
        out.followups.append(FollowUp(conf, call, unlocks, agents))
        if conf.required:
            return []
    if st.kind != "group":
        basis = Basis(calls=[call], findings=confirming)
        return [(rule, basis, st) for rule in kb.rules_by_target.get(("subtype", st.id), ())]
    # A group call (ALLSorts 'KMT2A Group') plus a finding that confirms one member (a KMT2A
    # fusion) makes that member's rules apply: the call stays the group, the rule rests on the
    # finding.
    applied = []
    for member_id in st.members:
        member = kb.subtypes[member_id]
        member_conf = kb.confirmations.get(member_id)
        found = (confirming_findings(kb, member_conf, member, sample) if member_conf
                 else [f for f in sample.findings() if kb.defines(member, f)])
        if found:
            basis = Basis(calls=[call], findings=found)
            applied += [(rule, basis, member)
                        for rule in kb.rules_by_target.get(("subtype", member_id), ())]
    return applied


def _unlocks(kb: Knowledge, conf: Confirmation, st: Subtype) -> tuple[Rule, ...]:
    """The rules a positive confirmatory test of `st` makes applicable (worked out once per
    subtype and confirmation)."""
    key = (id(conf), id(st), id(kb.rules_by_target), id(kb.alterations))
    unlocks = _unlocks_worked.get(key)
    if unlocks is not None:
        return unlocks
    members = st.members if st.kind == "group" else (st.id,)
    # A call that stands without its driver keeps its own rules; the test unlocks the rest.
    found = [r for m in members for r in kb.rules_by_target.get(("subtype", m), ())
             if conf.required or m != st.id]
    found += [r for a in kb.alterations.values() if set(a.genes) & set(conf.genes)
              for r in kb.rules_by_target.get(("alteration", a.id), ())]
    return _unlocks_worked.put(key, (conf, st, kb.rules_by_target, kb.alterations), tuple(found))


def confirming_findings(kb: Knowledge, conf: Confirmation, st: Subtype,
                        sample: Sample) -> list[Finding]:
    """The findings of the sample that confirm `st` as `conf` says (exact fusion, a fusion of a
    named gene on either side, the subtype's own defining finding, or any chromosome count)."""
    found: list[Finding] = []
    for f in sample.fusions:
        name = kb.fusion_name(f)
        # A gene match never borrows another subtype's defining fusion: BCR::ABL1 involves ABL1
        # but confirms Ph, not an ABL-class Ph-like call.
        other = name in kb.defining_fusions and name not in st.defining_fusions
        by_gene = bool(set(name.split("::")) & set(conf.genes)) and not other
        if name in conf.fusions or by_gene:
            found.append(f)
    if conf.findings == "defining":  # the fusions were weighed above, by name and gene
        found += [f for f in sample.findings() if not isinstance(f, Fusion) and kb.defines(st, f)]
    if conf.findings == "chromosome-count" and sample.ploidy and \
            sample.ploidy.chromosome_count is not None:
        found.append(sample.ploidy)
    return found


# --- alteration conditions ----------------------------------------------------------------------

def matching_findings(kb: Knowledge, alteration: Alteration, sample: Sample,
                      calls: list[ResolvedCall]) -> list[Finding]:
    """The sample's findings that meet every condition of `alteration` (empty when the subtype
    context it needs is not called)."""
    if alteration.context_subtypes and _context_call(alteration, calls) is None:
        return []
    if alteration.kind in ("fusion", "rearrangement"):
        return [f for f in sample.fusions if fusion_matches(kb, alteration, f)]
    if alteration.kind == "mutation":
        return [v for v in sample.variants if variant_matches(kb, alteration, v)]
    return []


def fusion_matches(kb: Knowledge, alteration: Alteration, f: Fusion) -> bool:
    name = kb.fusion_name(f)
    # A fusion that defines a subtype (BCR::ABL1 = Ph) is that subtype's evidence, not an
    # instance of a gene-class alteration such as "ABL-class fusion".
    if name in kb.defining_fusions:
        return False
    gene5, gene3 = kb.symbol(f.gene5), kb.symbol(f.gene3)
    genes = set(alteration.genes)
    position = alteration.gene_position or "either"
    if position == "3prime":
        hit = gene3 in genes  # the kinase must be the 3' partner: its kinase domain is retained
    elif position == "5prime":
        hit = gene5 in genes
    else:
        hit = bool({gene5, gene3} & genes)
    if not hit:
        return False
    if alteration.frame == "in-frame-or-unknown":
        return frame_class(f.reading_frame) != "out-of-frame"
    return True


def frame_class(written: str | None) -> str:
    """'in-frame' | 'out-of-frame' | 'unknown' from a caller's reading-frame wording."""
    if not written:
        return "unknown"
    key = "".join(ch for ch in written.casefold() if ch.isalpha())
    return _FRAME_WORDS.get(key, "unknown")


def variant_matches(kb: Knowledge, alteration: Alteration, v: SequenceVariant) -> bool:
    if kb.symbol(v.gene) not in alteration.genes:
        return False
    if v.origin not in alteration.origins:
        return False
    # Activating-mutation rules name the consequences that can activate: a synonymous, intronic
    # or UTR variant never matches, and neither does a variant whose consequence is unknown.
    return not alteration.consequences or bool(set(v.consequences) & set(alteration.consequences))


def _context_call(alteration: Alteration, calls: list[ResolvedCall]) -> ResolvedCall | None:
    if not alteration.context_subtypes:
        return calls[0] if calls else None
    return next((c for c in calls if c.reported.id in alteration.context_subtypes), None)


# --- trials, evidence policy, merging -----------------------------------------------------------

def trial_fit(trial: Trial, on: date) -> TrialFit:
    """A trial is offered only when its record's population includes BCP-ALL, its age range and
    line of therapy are recorded, and its status is open with an as-of date under a year old."""
    key = (id(trial), on)
    fit = _trial_fits_worked.get(key)
    if fit is None:
        fit = _trial_fits_worked.put(key, trial, _fit(trial, on))
    offered, reasons, status_text = fit
    return TrialFit(trial, offered, list(reasons), status_text)


def _fit(trial: Trial, on: date) -> tuple[bool, tuple[str, ...], str]:
    reasons = []
    if not set(trial.diseases) & BCP_ALL_DISEASES:
        reasons.append("conditions do not include B-ALL" if trial.diseases
                       else "conditions not recorded")
    if not (trial.min_age and trial.max_age):
        reasons.append("age range not recorded")
    if not trial.line_of_therapy:
        reasons.append("line of therapy not recorded")
    status_text = status_wording(trial, on)
    if trial.status not in OPEN_STATUSES:
        reasons.append(f"not enrolling ({status_text})")
    elif not is_fresh(trial, on):
        reasons.append(status_text)
    return not reasons, tuple(reasons), status_text


def is_fresh(trial: Trial, on: date) -> bool:
    if not trial.status_as_of:
        return False
    return (on - date.fromisoformat(trial.status_as_of[:10])).days <= STATUS_FRESH_DAYS


def status_wording(trial: Trial, on: date) -> str:
    if trial.status == "unknown" or not trial.status_as_of:
        return "status unknown"
    if is_fresh(trial, on):
        return f"{trial.status} as of {trial.status_as_of}"
    return f"status last verified {trial.status_as_of}: {trial.status}"


def _merge(applied: list[tuple[Rule, Basis, Subtype | None]], kb: Knowledge, on: date,
           out: Assessment) -> None:
    """One recommendation per (agent, offered trial, implication), keeping every rule and every
    finding it rests on; trials that are not offered become evidence of their agent's
    recommendation (or, without one, are listed)."""
    merged: dict[tuple[str, str, str], Recommendation] = {}
    fits: dict[str, TrialFit] = {}
    not_offered: list[tuple[Rule, TrialFit]] = []
    for rule, basis, ctx in applied:
        fit = None
        if rule.trial:
            fit = fits.get(rule.trial)
            if fit is None:
                fit = fits[rule.trial] = trial_fit(kb.trials[rule.trial], on)
            if not fit.offered:
                not_offered.append((rule, fit))
                continue
        agent = kb.agents.get(rule.agent) if rule.agent else None
        rec = Recommendation(agent, fit, rule.implication, ctx, [rule],
                             Basis([*basis.calls], [*basis.findings]),
                             kb.evidence_policy[rule.evidence_level])
        into = merged.setdefault(rec.key, rec)
        if into is not rec:
            into.rules.append(rule)
            into.basis.calls += [c for c in basis.calls if c not in into.basis.calls]
            into.basis.findings += [f for f in basis.findings if f not in into.basis.findings]
            into.policy = kb.evidence_policy[into.best_level]
    for rule, fit in not_offered:
        rec = merged.get((rule.agent or "", "", "responsive"))
        if rec is not None:
            if fit not in rec.evidence_trials:
                rec.evidence_trials.append(fit)
        elif fit not in out.listed_trials:
            out.listed_trials.append(fit)
    open_agents = {r.agent.id for r in merged.values() if r.trial and r.agent}
    for rec in merged.values():
        rec.medication_task = _medication_task(rec, open_agents)
    out.recommendations = list(merged.values())


def _medication_task(rec: Recommendation, open_agents: set[str]) -> bool:
    """A medication-recommendation Task only for an agent a clinician can prescribe or obtain in
    an open trial, and only where the evidence level allows one."""
    if rec.trial or rec.agent is None or rec.implication != "responsive":
        return False
    allowed = rec.policy.medication_task
    if allowed == "prescribable":
        return rec.agent.availability == "approved"
    if allowed == "obtainable":
        return rec.agent.availability == "approved" or (
            rec.agent.availability == "investigational" and rec.agent.id in open_agents)
    return False
